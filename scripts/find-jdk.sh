#!/usr/bin/env bash
# Prints the home of a JDK 25 or newer: $JAVA_HOME if it qualifies, else /usr/lib/jvm/*25*.
# Sourced by ./gpt2j; exits non-zero with one readable line when none is found.
gpt2j_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1
}
gpt2j_find_jdk() {
  local cand major
  for cand in "${JAVA_HOME:-}" /usr/lib/jvm/*25* /usr/lib/jvm/*; do
    [ -n "$cand" ] && [ -x "$cand/bin/java" ] && [ -x "$cand/bin/javac" ] || continue
    major=$(gpt2j_java_major "$cand")
    if [ -n "$major" ] && [ "${major%%.*}" -ge 25 ] 2>/dev/null; then
      echo "$cand"; return 0
    fi
  done
  echo "gpt2j: needs a JDK 25 or newer (with javac); set JAVA_HOME to one or install it, e.g. 'apt-get install temurin-25-jdk' or from https://adoptium.net" >&2
  return 1
}
