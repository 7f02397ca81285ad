#!/usr/bin/env python3
"""A small ClickHouse HTTP-interface adapter over chDB, for integration tests.

Why: no ClickHouse server can be installed on the dev/CI machines (no Docker,
distro package too old), but the real engine ships on PyPI as `chdb-core`.
This process wraps ONE persistent chDB session (``--data DIR``) in a threaded
HTTP server on 127.0.0.1 so the `clickhouse` Rust crate (0.15) can talk to it.

    python3 tests/chdb_server/server.py --port 0 --data /tmp/ch
    -> first stdout line: "listening on 127.0.0.1:PORT"   (SIGTERM/SIGINT: clean exit)

Subset of the HTTP interface spoken (what clickhouse-rs 0.15 sends, plus a bit):
  * GET /ping, GET / (no query)            -> "Ok.\\n"
  * GET|POST /: SQL from the `query=` URL param and/or the body; a multipart/form-data
    body (the crate uses it when `param_*` query parameters are set) is read too.
    `INSERT ... FORMAT X` / `INSERT ... VALUES`: the body (plus any inline data) is
    the data; it is written to a temp file and run as `INSERT ... FROM INFILE`.
  * URL params: `database` (also header X-ClickHouse-Database), `default_format`
    (default TabSeparated), `param_*` (query parameters), `decompress=1` (body is
    in ClickHouse's compressed-block framing: 16-byte CityHash128 + 0x82/0x02 +
    u32 compressed size (incl. 9-byte header) + u32 raw size + LZ4 block, any number
    of blocks), `compress=1` (response in the same framing). Every other param that
    is not HTTP-only is a ClickHouse setting: applied with SET for the one query and
    reset afterwards (an unknown setting fails, as on a real server).
  * Content-Encoding (request) and Accept-Encoding (response): lz4 (LZ4 *frame*
    format, what the crate 0.15 asks for on SELECTs) and gzip.
  * Errors: HTTP 500, header X-ClickHouse-Exception-Code: N, body
    "Code: N. DB::Exception: ... (version V (official build))\\n". Results are built
    fully before the status line is sent, so no error ever arrives mid-stream.
  * Also sent: X-ClickHouse-Query-Id, X-ClickHouse-Format, X-ClickHouse-Summary.
Not supported: sessions (session_id is ignored; chDB's one session is shared, so a
client's own SET/USE statements would leak - the adapter resets only `USE`),
authentication (user/password are accepted and ignored), zstd, progress headers.
Needs: pip install -r tests/chdb_server/requirements.txt
"""
import argparse, email.parser, email.policy, gzip, json, os, re, shutil, signal, struct, sys
import tempfile, threading, time, uuid, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import lz4.block, lz4.frame
from clickhouse_cityhash.cityhash import CityHash128
from chdb import session as chdb_session

# URL params that belong to the HTTP layer, not to the query's settings (`readonly` is
# ignored too: once set, the shared session could not reset it).
HTTP_ONLY = {"query", "database", "default_format", "compress", "decompress", "user", "password",
             "quota_key", "query_id", "session_id", "session_timeout", "session_check", "role",
             "buffer_size", "wait_end_of_query", "enable_http_compression", "client_protocol_version",
             "send_progress_in_http_headers", "add_http_cors_header", "readonly"}
BINARY_FORMATS = ("RowBinary", "Native", "Parquet", "Arrow", "ORC", "Avro", "Protobuf", "MsgPack", "CapnProto")
LZ4, NONE, BLOCK = 0x82, 0x02, 1 << 20


class CHError(Exception):
    def __init__(self, code, msg):
        super().__init__(msg)
        self.code, self.msg = code, msg


def from_chdb(exc):
    """Wrap a chDB exception; its text is already 'Code: N. DB::Exception: ...'."""
    text = str(exc).strip()
    m = re.match(r"Code: (\d+)\.", text)
    return CHError(int(m.group(1)), text) if m else CHError(1000, f"Code: 1000. DB::Exception: {text}")


def checksum(data):
    h = CityHash128(data)  # CityHash v1.0.2, stored as two little-endian u64 (high half first here)
    return struct.pack("<QQ", h >> 64, h & 0xFFFFFFFFFFFFFFFF)


def unframe(buf, verify=True):
    """Decode ClickHouse's compressed-block framing (decompress=1)."""
    out, i = [], 0
    while i < len(buf):
        if len(buf) - i < 25:
            raise CHError(271, "Code: 271. DB::Exception: Truncated compressed block. (CANNOT_DECOMPRESS)")
        method, csize, rsize = struct.unpack_from("<BII", buf, i + 16)
        block = buf[i + 16:i + 16 + csize]
        if len(block) != csize or csize < 9:
            raise CHError(271, "Code: 271. DB::Exception: Truncated compressed block. (CANNOT_DECOMPRESS)")
        if verify and checksum(block) != buf[i:i + 16]:
            raise CHError(40, "Code: 40. DB::Exception: Checksum doesn't match: corrupted data. (CHECKSUM_DOESNT_MATCH)")
        if method == LZ4:
            out.append(lz4.block.decompress(block[9:], uncompressed_size=rsize))
        elif method == NONE:
            out.append(block[9:])
        else:
            raise CHError(432, f"Code: 432. DB::Exception: Unknown codec family code: {method:#x}. (UNKNOWN_CODEC)")
        i += 16 + csize
    return b"".join(out)


def frame(data):
    """Encode data in ClickHouse's compressed-block framing (compress=1), LZ4, 1 MiB blocks."""
    out = []
    for off in range(0, len(data), BLOCK) or [0]:
        raw = data[off:off + BLOCK]
        comp = lz4.block.compress(raw, store_size=False)
        block = struct.pack("<BII", LZ4, 9 + len(comp), len(raw)) + comp
        out += [checksum(block), block]
    return b"".join(out)


def mask(sql):
    """Same-length copy of sql with quoted text and parenthesised groups blanked out,
    so keywords can be searched for at the top level only."""
    out, quote, esc, depth = [], None, False, 0
    for c in sql:
        if quote:
            esc, quote = (not esc and c == "\\"), (None if c == quote and not esc else quote)
            out.append(" ")
        elif c in "'\"`":
            quote = c
            out.append(" ")
        else:
            depth += (c == "(") - (c == ")")
            out.append(" " if depth or c == ")" else c)
    return "".join(out)


def split_insert(sql):
    """For `INSERT INTO t[(cols)] [SETTINGS ..] FORMAT X<data>` / `.. VALUES<data>` return
    (head, settings_clause, format, inline_data); None for other statements."""
    m_sql = mask(sql)
    if not re.match(r"\s*INSERT\s", m_sql, re.I):
        return None
    m = re.search(r"\b(?:FORMAT\s+(\w+)|VALUES)\b", m_sql, re.I)
    if not m or re.search(r"\b(SELECT|WITH)\b", m_sql[:m.start()], re.I):
        return None
    fmt = m.group(1) or "Values"
    data = sql[m.end():] if m.group(1) else sql[m.start() + 6:]
    if m.group(1):  # like ClickHouse: data starts after blanks up to and including one newline
        data = re.sub(r"\A[ \t]*(\r?\n)?", "", data)
    s = re.search(r"\bSETTINGS\b", m_sql[:m.start()], re.I)
    head = sql[:s.start() if s else m.start()]
    return head, sql[s.start():m.start()] if s else "", fmt, data.encode("utf-8", "surrogateescape")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "chdb-http-adapter"

    def log_message(self, *args):
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline(65537).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def handle_request(self):
        start, status, sql = time.monotonic(), 500, ""
        try:
            url = urllib.parse.urlsplit(self.path)
            params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            body = self.read_body()
            enc = self.headers.get("Content-Encoding", "").strip().lower()
            if enc == "gzip":
                body = gzip.decompress(body)
            elif enc == "lz4":
                body = lz4.frame.decompress(body)
            if params.get("decompress") == "1" and body:
                verify = params.get("http_native_compression_disable_checksumming_on_decompress") != "1"
                body = unframe(body, verify)
            ctype = self.headers.get("Content-Type", "")
            if ctype.startswith("multipart/form-data"):  # query + param_* as form fields
                msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                    b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
                for part in msg.iter_parts():
                    params[part.get_param("name", header="content-disposition")] = \
                        part.get_payload(decode=True).decode()
                body = b""
            sql = params.get("query", "")
            if url.path.rstrip("/") == "/ping" or (self.command == "GET" and not sql and not body):
                status = 200
                return self.reply(200, b"Ok.\n", {"Content-Type": "text/plain; charset=UTF-8"})
            if body and split_insert(sql) is None:  # body continues the query text
                text = body.decode("utf-8", "surrogateescape")  # may hold inline INSERT data
                sql, body = (sql + " " + text) if sql else text, b""
            out, headers = self.server.run(sql.strip(), body, params, self.headers)
            if params.get("compress") == "1":
                out = frame(out)
            accept = self.headers.get("Accept-Encoding", "").lower()
            if params.get("enable_http_compression", "1") != "0":
                if "lz4" in accept:
                    out, headers["Content-Encoding"] = lz4.frame.compress(out), "lz4"
                elif "gzip" in accept:
                    out, headers["Content-Encoding"] = gzip.compress(out, 3), "gzip"
            status = 200
            self.reply(200, out, headers)
        except CHError as e:  # its msg is already "Code: N. DB::Exception: ..."
            self.reply_error(e)
        except Exception as e:  # malformed request etc.
            self.reply_error(CHError(1000, f"Code: 1000. DB::Exception: {type(e).__name__}: {e}"))
        finally:
            sql_1 = " ".join(sql.split())[:100]
            sys.stderr.write(f"{self.command} {sql_1!r} {status} {(time.monotonic() - start) * 1e3:.1f}ms\n")

    def reply_error(self, e):
        body = f"{e.msg} (version {self.server.version} (official build))\n".encode()
        self.reply(500, body, {"Content-Type": "text/plain; charset=UTF-8",
                               "X-ClickHouse-Exception-Code": str(e.code)})

    def reply(self, status, body, headers):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = handle_request


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port, data_dir):
        super().__init__(("127.0.0.1", port), Handler)
        self.lock = threading.Lock()
        self.session = chdb_session.Session(data_dir)
        self.tmp = tempfile.mkdtemp(prefix="chdb_http_")
        self.version = self.session.query("SELECT version()", "TSV").bytes().decode().strip()

    def run(self, sql, data, params, req_headers):
        """Run one statement; returns (response bytes, response headers)."""
        fmt = params.get("default_format") or "TabSeparated"
        database = params.get("database") or req_headers.get("X-ClickHouse-Database") or "default"
        qparams = {k[6:]: v for k, v in params.items() if k.startswith("param_")} or None
        settings = {k: v for k, v in params.items()
                    if k not in HTTP_ONLY and not k.startswith(("param_", "http_"))}
        ins, path = split_insert(sql), None
        if ins and (data or ins[3]):
            head, settings_clause, ins_fmt, inline = ins
            fd, path = tempfile.mkstemp(dir=self.tmp, suffix=".bin")
            with os.fdopen(fd, "wb") as f:
                f.write(inline + data)
            quoted = path.replace("\\", "\\\\").replace("'", "\\'")
            sql = f"{head.rstrip()} FROM INFILE '{quoted}' {settings_clause}FORMAT {ins_fmt}"
        try:
            with self.lock:
                try:
                    self.session.query(f"USE {quote_ident(database)}")
                    for k, v in settings.items():
                        self.session.query(f"SET {quote_ident(k)} = '{escape(v)}'")
                    res = self.session.query(sql, fmt, params=qparams)
                    out = res.bytes() or b""
                finally:
                    for k in settings:
                        try:
                            self.session.query(f"SET {quote_ident(k)} = DEFAULT")
                        except Exception:
                            pass
                    self.session.query("USE default")
        except Exception as e:
            raise from_chdb(e) from None
        finally:
            if path:
                os.unlink(path)
        summary = {"read_rows": res.rows_read(), "read_bytes": res.bytes_read(),
                   "written_rows": res.rows_written(), "written_bytes": res.bytes_written(),
                   "elapsed_ns": int(res.elapsed() * 1e9)}
        binary = fmt.startswith(BINARY_FORMATS)
        return out, {"Content-Type": "application/octet-stream" if binary else "text/plain; charset=UTF-8",
                     "X-ClickHouse-Format": fmt,
                     "X-ClickHouse-Query-Id": params.get("query_id") or str(uuid.uuid4()),
                     "X-ClickHouse-Summary": json.dumps({k: str(v) for k, v in summary.items()})}

    def close(self):
        self.server_close()
        with self.lock:
            self.session.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def escape(s):
    return s.replace("\\", "\\\\").replace("'", "\\'")


def quote_ident(name):
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=8123, help="0 picks a free port")
    ap.add_argument("--data", required=True, help="chDB data directory (persistent)")
    ap.add_argument("--exit-with-parent", action="store_true", help="stop when the process that started us exits (test harnesses)")
    args = ap.parse_args()
    os.makedirs(args.data, exist_ok=True)
    server = Server(args.port, args.data)
    stop = lambda *_: threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.exit_with_parent:
        parent = os.getppid()

        def watch():
            while os.getppid() == parent:
                time.sleep(0.5)
            stop()

        threading.Thread(target=watch, daemon=True).start()
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.close()
        sys.stderr.write("chdb server stopped\n")


if __name__ == "__main__":
    main()
