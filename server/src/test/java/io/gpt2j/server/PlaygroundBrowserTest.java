package io.gpt2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * End to end in headless Chromium: the playground streams a completion from the server, shows the curl command and
 * the model card. Runs where Debian's chromium + chromium-driver are installed (.ci/run installs them).
 */
class PlaygroundBrowserTest {
    private static final Path DRIVER = Path.of("/usr/bin/chromedriver"), CHROMIUM = Path.of("/usr/bin/chromium");

    @Test
    void streamsACompletionIntoThePage() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(DRIVER) && Files.isExecutable(CHROMIUM),
                "needs /usr/bin/chromedriver and /usr/bin/chromium (apt-get install chromium chromium-driver)");
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toString())
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).build();
        try (GptServer server = TestServers.start(TestServers.tiny(), TestServers.settings())) {
            WebDriver driver = new ChromeDriver(service, options);
            try {
                driver.get("http://127.0.0.1:" + server.port() + "/playground");
                WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
                wait.until(d -> d.findElement(By.id("model-name")).getText().equals("tiny-gpt2"));
                assertTrue(driver.findElement(By.id("card-text")).getText().contains("biases"), "built-in model card note");
                set(driver.findElement(By.id("prompt")), "Once upon a time,");
                set(driver.findElement(By.id("max_tokens")), "10");
                set(driver.findElement(By.id("temperature")), "0");
                assertTrue(driver.findElement(By.id("curl")).getText().contains("\"temperature\":0"),
                        driver.findElement(By.id("curl")).getText());
                driver.findElement(By.id("generate")).click();
                wait.until(d -> d.findElement(By.id("status")).getText().startsWith("done"));
                assertEquals("done (length)", driver.findElement(By.id("status")).getText());
                // WebElement.getText() trims; compare the DOM text
                Object generated = ((org.openqa.selenium.JavascriptExecutor) driver)
                        .executeScript("return document.getElementById('generated').textContent");
                assertEquals(OpenAiTest.GREEDY_10, generated);
            } finally {
                driver.quit();
            }
        }
    }

    private static void set(WebElement e, String value) {
        e.clear();
        e.sendKeys(value);
    }
}
