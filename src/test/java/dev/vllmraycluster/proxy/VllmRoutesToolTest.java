package dev.vllmraycluster.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.Python;
import dev.vllmraycluster.TestStacks;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tools/vllm-routes reads every way vLLM declares a route (decorators, add_api_route, mounts,
 * FastAPI's own pages) from a wheel, here a small one written by the test; and the checked-in
 * fixture of 0.33.0 is that tool's output (its header names the wheel and its digest, and it
 * holds the routes vLLM's own key check leaves open).
 */
class VllmRoutesToolTest {
  static final Path TOOL = TestStacks.ROOT.resolve("tools/vllm-routes/vllm_routes.py");
  static final Path FIXTURE = TestStacks.ROOT.resolve("src/test/resources/fixtures/vllm-0.33.0.routes");

  @TempDir Path dir;

  @Test
  void readsDecoratorsCallsMountsAndFastApiDefaults() throws Exception {
    Path wheel = dir.resolve("vllm-9.9.9-py3-none-any.whl");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(wheel))) {
      put(z, "vllm/entrypoints/serve/a.py", String.join("\n",
          "from fastapi import APIRouter, FastAPI",
          "router = APIRouter()",
          "@router.post(\"/v1/chat/completions\", dependencies=[])",
          "async def chat(): ...",
          "@router.get(\"/v1/responses/{response_id}\")",
          "async def get(): ...",
          "@router.api_route(\"/ping\", methods=[\"GET\", \"POST\"])",
          "async def ping(): ...",
          "@router.websocket(\"/v1/realtime\")",
          "async def rt(): ...",
          "@app.get(app.swagger_ui_oauth2_redirect_url)",
          "async def redirect(): ...",
          "def build(app):",
          "    app.add_api_route(\"/abort_requests\", abort, methods=[\"POST\"])",
          "    app.mount(\"/static\", object())",
          "    app = FastAPI(docs_url=None, redoc_url=None)",
          ""));
      put(z, "vllm/entrypoints/serve/metrics.py", "from starlette.routing import Mount\nroute = Mount(\"/metrics\", None)\n");
      put(z, "vllm/other/ignored.py", "@router.get(\"/not-an-entrypoint\")\ndef f(): ...\n");
    }
    Python.Result r = Python.run(Duration.ofSeconds(60), TOOL.toString(), "--wheel", wheel.toString());
    String out = r.output();
    assertEquals(0, r.code(), out);
    List<String> routes = out.lines().filter(l -> !l.startsWith("#")).toList();
    assertEquals(List.of(
        "POST /abort_requests vllm/entrypoints/serve/a.py",
        "MOUNT /metrics vllm/entrypoints/serve/metrics.py",
        "GET /openapi.json vllm/entrypoints/serve/a.py (FastAPI default)",
        "GET /ping vllm/entrypoints/serve/a.py",
        "POST /ping vllm/entrypoints/serve/a.py",
        "MOUNT /static vllm/entrypoints/serve/a.py",
        "POST /v1/chat/completions vllm/entrypoints/serve/a.py",
        "WEBSOCKET /v1/realtime vllm/entrypoints/serve/a.py",
        "GET /v1/responses/{response_id} vllm/entrypoints/serve/a.py"), routes);
    assertTrue(out.contains("# not read (no literal path): vllm/entrypoints/serve/a.py:11 @get(<not a literal>)"), out);
  }

  @Test
  void refusesAFileThatIsNoVllmWheel() throws Exception {
    Path wheel = dir.resolve("other.whl");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(wheel))) {
      put(z, "other/x.py", "");
    }
    Python.Result r = Python.run(Duration.ofSeconds(60), TOOL.toString(), "--wheel", wheel.toString());
    assertEquals(2, r.code(), r.output());
    assertTrue(r.output().contains("not a vLLM wheel"), r.output());
  }

  @Test
  void theFixtureIsTheToolsOutputFor0330() throws IOException {
    List<String> lines = Files.readAllLines(FIXTURE);
    assertTrue(lines.get(1).matches("# vllm-0\\.33\\.0-cp38-abi3-manylinux_2_28_x86_64\\.whl \\(sha256 [0-9a-f]{64}\\)\\."), lines.get(1));
    List<String> routes = lines.stream().filter(l -> !l.startsWith("#")).toList();
    assertTrue(routes.size() > 80, routes.size() + " routes");
    for (String open : List.of("POST /invocations", "POST /tokenize", "POST /pooling", "POST /score", "POST /rerank",
        "MOUNT /metrics", "GET /docs", "GET /health", "POST /v1/chat/completions")) {
      assertTrue(routes.stream().anyMatch(r -> r.startsWith(open + " ")), open + " in the fixture");
    }
  }

  private static void put(ZipOutputStream z, String name, String text) throws IOException {
    z.putNextEntry(new ZipEntry(name));
    OutputStream out = z;
    out.write(text.getBytes(StandardCharsets.UTF_8));
    z.closeEntry();
  }
}
