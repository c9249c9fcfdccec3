"""swerve.httpd against real sockets: routing, limits, keep-alive, streaming, disconnects, shutdown."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from swerve.httpd import HTTPError, HTTPServer, Request, Response, Router, json_response, sse_response


class Probe:
    """What the test handlers saw."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = asyncio.Event()
        self.stream_closed = asyncio.Event()
        self.finished = 0


def make_router(probe: Probe) -> Router:
    router = Router()

    @router.route("GET", "/health")
    async def health(request: Request) -> Response:
        return json_response({"status": "ok", "query": request.query})

    @router.route("POST", "/echo")
    async def echo(request: Request) -> Response:
        return json_response({"got": request.json_object(), "type": request.headers.get("content-type")})

    @router.route("POST", "/size")
    async def size(request: Request) -> Response:
        return json_response({"bytes": len(request.body)})

    @router.route("GET", "/teapot")
    async def teapot(request: Request) -> Response:
        raise HTTPError(418, "short and stout", type="teapot_error")

    @router.route("GET", "/boom")
    async def boom(request: Request) -> Response:
        raise RuntimeError("kaput")

    @router.route("GET", "/wait")
    async def wait(request: Request) -> Response:
        probe.started.set()
        try:
            await probe.release.wait()
        except asyncio.CancelledError:
            probe.cancelled.set()
            raise
        probe.finished += 1
        return json_response({"done": True})

    @router.route("GET", "/sse")
    async def sse(request: Request):
        count = int(request.query.get("n", "3"))

        async def events():
            try:
                for i in range(count):
                    yield {"i": i}
                    if request.query.get("hold") and i == 0:
                        probe.started.set()
                        await probe.release.wait()
                yield "[DONE]"
            finally:
                probe.stream_closed.set()

        return sse_response(events())

    return router


@pytest.fixture
async def served():
    probe = Probe()
    server = await HTTPServer(make_router(probe), max_body=1000).start()
    try:
        yield server, probe
    finally:
        probe.release.set()
        await server.close(grace_s=2.0)


async def raw_exchange(server: HTTPServer, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(data)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(-1), 10)
    finally:
        writer.close()


async def test_binds_loopback_by_default(served):
    server, _ = served
    assert server.host == "127.0.0.1"
    assert server.url == f"http://127.0.0.1:{server.port}"


async def test_routes_json_and_errors(served):
    server, _ = served
    async with httpx.AsyncClient(base_url=server.url) as client:
        ok = await client.get("/health?x=1")
        assert ok.status_code == 200 and ok.json() == {"status": "ok", "query": {"x": "1"}}
        assert ok.headers["content-type"] == "application/json"
        echo = await client.post("/echo", json={"a": [1, "é"]})
        assert echo.json()["got"] == {"a": [1, "é"]}
        missing = await client.get("/nope")
        assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found_error"
        wrong = await client.post("/health")
        assert wrong.status_code == 405 and wrong.headers["allow"] == "GET"
        bad = await client.post("/echo", content=b"{not json")
        assert bad.status_code == 400 and "not valid JSON" in bad.json()["error"]["message"]
        array = await client.post("/echo", json=[1, 2])
        assert array.status_code == 400 and "JSON object" in array.json()["error"]["message"]
        teapot = await client.get("/teapot")
        assert teapot.status_code == 418
        assert teapot.json() == {"error": {"code": 418, "message": "short and stout", "type": "teapot_error"}}
        boom = await client.get("/boom")
        assert boom.status_code == 500 and "kaput" in boom.json()["error"]["message"]
        # The connection survives all of the above.
        assert (await client.get("/health")).status_code == 200


async def test_body_over_the_limit_is_413_before_it_is_read(served):
    server, _ = served
    async with httpx.AsyncClient(base_url=server.url) as client:
        fits = await client.post("/size", content=b"x" * 1000)
        assert fits.json() == {"bytes": 1000}
        over = await client.post("/size", content=b"x" * 1001)
        assert over.status_code == 413 and "1001 bytes" in over.json()["error"]["message"]
    # Announced as huge, nothing sent: the answer comes at once, from the header alone.
    head = b"POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n"
    reply = await raw_exchange(server, head)
    assert reply.startswith(b"HTTP/1.1 413 ") and b"connection: close" in reply.lower()


async def test_chunked_body_over_the_limit_is_413(served):
    server, _ = served

    async def body():
        for _ in range(5):
            yield b"y" * 400

    async with httpx.AsyncClient(base_url=server.url) as client:
        over = await client.post("/size", content=body())
        assert over.status_code == 413


async def test_malformed_requests_get_400_and_a_closed_connection(served):
    server, _ = served
    for garbage in (b"NOT HTTP AT ALL\r\n\r\n", b"GET / HTTP/1.1\r\nbad header line\r\n\r\n",
                    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n"):
        reply = await raw_exchange(server, garbage)
        assert reply.startswith(b"HTTP/1.1 400 "), reply[:80]
        assert b"malformed request" in reply


async def test_keep_alive_and_pipelining_on_one_connection(served):
    server, _ = served
    one = b"GET /health?n=1 HTTP/1.1\r\nHost: x\r\n\r\n"
    two = b"GET /health?n=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    reply = await raw_exchange(server, one + two)
    assert reply.count(b"HTTP/1.1 200 ") == 2
    assert b'"n":"1"' in reply and b'"n":"2"' in reply


async def test_expect_100_continue_is_answered(served):
    server, _ = served
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(b"POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        await writer.drain()
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert interim.startswith(b"HTTP/1.1 100 ")
        writer.write(b"abcd")
        await writer.drain()
        final = await asyncio.wait_for(reader.readuntil(b'}'), 10)
        assert b"200" in final and b'{"bytes":4}' in final
    finally:
        writer.close()


async def test_sse_stream_is_chunked_and_complete(served):
    server, probe = served
    async with httpx.AsyncClient(base_url=server.url) as client, client.stream("GET", "/sse?n=3") as response:
        assert response.headers["content-type"] == "text/event-stream"
        assert response.headers["transfer-encoding"] == "chunked"
        lines = [line async for line in response.aiter_lines() if line]
    assert lines == ['data: {"i":0}', 'data: {"i":1}', 'data: {"i":2}', "data: [DONE]"]
    assert probe.stream_closed.is_set()


async def test_client_disconnect_cancels_the_handler(served):
    server, probe = served
    _reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    await asyncio.wait_for(probe.started.wait(), 10)
    writer.close()
    await asyncio.wait_for(probe.cancelled.wait(), 10)
    assert probe.finished == 0


async def test_client_disconnect_stops_a_stream(served):
    server, probe = served
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /sse?n=5&hold=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    await asyncio.wait_for(probe.started.wait(), 10)
    first = await asyncio.wait_for(reader.readuntil(b'{"i":0}'), 10)
    assert b"200" in first
    writer.close()
    # The generator is closed although it never got to yield again.
    await asyncio.wait_for(probe.stream_closed.wait(), 10)


async def test_close_lets_a_running_request_finish_and_drops_idle_ones(served):
    server, probe = served
    idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", server.port)
    async with httpx.AsyncClient(base_url=server.url) as client:
        pending = asyncio.ensure_future(client.get("/wait"))
        await asyncio.wait_for(probe.started.wait(), 10)
        closing = asyncio.ensure_future(server.close(grace_s=10.0))
        await asyncio.sleep(0)
        probe.release.set()
        response = await asyncio.wait_for(pending, 10)
        await asyncio.wait_for(closing, 10)
    assert response.status_code == 200 and response.json() == {"done": True}
    assert response.headers.get("connection") == "close"
    assert await asyncio.wait_for(idle_reader.read(), 10) == b""  # the idle connection was closed
    idle_writer.close()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(server.url + "/health")


async def test_close_cancels_what_outlives_the_grace_period():
    probe = Probe()
    server = await HTTPServer(make_router(probe)).start()
    async with httpx.AsyncClient(base_url=server.url) as client:
        pending = asyncio.ensure_future(client.get("/wait"))
        await asyncio.wait_for(probe.started.wait(), 10)
        await server.close(grace_s=0.05)
        assert probe.cancelled.is_set()
        with pytest.raises(httpx.HTTPError):
            await pending


async def test_many_sequential_requests_on_one_connection(served):
    server, _ = served
    payload = json.dumps({"k": "v"}).encode()
    request = (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        for _ in range(50):
            writer.write(request)
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            body = json.loads(await reader.readexactly(length))
            assert head.startswith(b"HTTP/1.1 200 ") and body["got"] == {"k": "v"}
    finally:
        writer.close()


async def test_head_answers_like_get_without_a_body() -> None:
    probe = Probe()
    async with HTTPServer(make_router(probe), port=0) as server, httpx.AsyncClient() as client:
        head = await client.head(f"{server.url}/health")
        missing = await client.head(f"{server.url}/nowhere")
        after = await client.get(f"{server.url}/health")  # the connection is still in step
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 0
    assert missing.status_code == 404 and missing.content == b""
    assert after.status_code == 200 and after.json()["status"] == "ok"
