"""Generates pretokenize_fuzz.jsonl: random strings and their split by GPT-2's pre-tokenizer regex under
Python's `regex` module (the reference transformers uses). Run: python3 gen_pretokenize_fuzz.py > pretokenize_fuzz.jsonl
Pieces are given as [start, end) offsets in UTF-16 code units (Java string indices)."""
import json, random, sys
import regex

PAT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
POOLS = [
    "abcxyzABCXYZ", "stremvldSTREMVLD", "0123456789", "    ", "''''", "!?.,;:-_()[]{}\"#$%&*+/<=>@\\^`|~",
    "\t\n\r\x0b\x0c", "\x1c\x1d\x1e\x1f\x00\x01\x7f", "\u00a0\u3000\u2028\u2029\u0085\u1680\u2009\u202f\u205f",
    "\u180e\u200b\u200d\ufeff", "éüñçÅØ", "e\u0301a\u0308", "中文字日本語한국어", "عربيעברית", "हिन्दीไทย",
    "\u00b2\u00bd\u2160\u2167\u0663\u0967", "\u02b0\u01c5\u3005", "\U0001F600\U0001F44D\U0001F3FD\u2764\ufe0f",
    "\U0001D400\U0001D41A\U00020000\U0001D7CE", "\U00010940\U00011DE0\U000323B0\U00016FF4", "\udc80\ue000\U0010FFFF",
    "’‘“”—–…",
]

def utf16_offsets(s):
    offs, o = [0], 0
    for ch in s:
        o += 2 if ord(ch) > 0xFFFF else 1
        offs.append(o)
    return offs

def main():
    rnd = random.Random(20261127)
    for n in range(2000):
        length = rnd.choice([1, 2, 3, 5, 8, 13, 30, 80])
        weights = [rnd.random() for _ in POOLS]
        s = "".join(rnd.choice(rnd.choices(POOLS, weights)[0]) for _ in range(length))
        offs = utf16_offsets(s)
        pieces = [[offs[m.start()], offs[m.end()]] for m in PAT.finditer(s)]
        assert "".join(m.group() for m in PAT.finditer(s)) == s
        sys.stdout.write(json.dumps({"text": s, "pieces": pieces}) + "\n")

main()
