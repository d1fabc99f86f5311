"""Drive a URL list with wrk (https://github.com/wg/wrk) and read its --latency report."""

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "wrk is not installed. On Debian or Ubuntu: apt-get install wrk"

# wrk rotates over the paths in order, one list per thread, so every run asks for the same pages
# and a cache keyed by page cannot answer most requests from a single warm entry.
LUA_TEMPLATE = """-- written by bench.run
local paths = {
%s
}
local counter = 0
%s
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter - 1) %% #paths + 1])
end
"""

# Appended to every script: count the server's cache answers per response, X-Page-Cache (hit or
# miss: the anonymous page cache and the API's) and X-Fragment-Cache ("blocks found/blocks": the
# members' pages' answer blocks), summed over wrk's threads and printed when the run is done.
COUNTERS = """
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
page_hits, page_misses, fragment_hits, fragments = 0, 0, 0, 0
function response(status, headers, body)
  local page = headers["X-Page-Cache"] or headers["x-page-cache"]
  if page == "hit" then
    page_hits = page_hits + 1
  elseif page == "miss" then
    page_misses = page_misses + 1
  end
  local blocks = headers["X-Fragment-Cache"] or headers["x-fragment-cache"]
  if blocks then
    local found, total = string.match(blocks, "(%d+)/(%d+)")
    if found then
      fragment_hits = fragment_hits + tonumber(found)
      fragments = fragments + tonumber(total)
    end
  end
end
function done(summary, latency, requests)
  local totals = {0, 0, 0, 0}
  for _, thread in ipairs(threads) do
    totals[1] = totals[1] + thread:get("page_hits")
    totals[2] = totals[2] + thread:get("page_misses")
    totals[3] = totals[3] + thread:get("fragment_hits")
    totals[4] = totals[4] + thread:get("fragments")
  end
  io.write(string.format("cache: page %d hits %d misses, fragments %d of %d\\n",
    totals[1], totals[2], totals[3], totals[4]))
end
"""

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = r"([\d.]+)(us|ms|s|m|h)"


@dataclass(frozen=True)
class Result:
    p50_ms: float
    p90_ms: float
    p99_ms: float
    requests_per_second: float
    requests: int
    non_2xx_3xx: int
    socket_errors: int
    page_hits: int = 0
    page_misses: int = 0
    fragment_hits: int = 0
    fragments: int = 0

    @property
    def hit_rate(self) -> str:
        """The cache's share of answers: pages (anonymous, API) or members' answer blocks."""
        if self.page_hits + self.page_misses:
            return f"{100 * self.page_hits / (self.page_hits + self.page_misses):.0f}% pages"
        if self.fragments:
            return f"{100 * self.fragment_hits / self.fragments:.0f}% blocks"
        return "–"


def executable() -> str | None:
    return shutil.which("wrk")


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


CONDITIONAL_TEMPLATE = """-- written by bench.run: each path with the ETag it was last served with
local paths = {
%s
}
local etags = {
%s
}
local counter = 0
request = function()
  counter = counter + 1
  local i = (counter - 1) %% #paths + 1
  return wrk.format("GET", paths[i], {["If-None-Match"] = etags[i]%s})
end
"""


def lua_script(
    paths: list[str], headers: dict[str, str] | None = None, etags: list[str] | None = None
) -> str:
    if not paths:
        raise ValueError("No paths to request.")
    if etags is not None:
        if len(etags) != len(paths):
            raise ValueError("One ETag a path.")
        extra = "".join(
            f", [{_lua_string(name)}] = {_lua_string(value)}"
            for name, value in (headers or {}).items()
        )
        return (
            CONDITIONAL_TEMPLATE
            % (
                ",\n".join("  " + _lua_string(path) for path in paths),
                ",\n".join("  " + _lua_string(etag) for etag in etags),
                extra,
            )
            + COUNTERS
        )
    quoted = ",\n".join("  " + _lua_string(path) for path in paths)
    header_lines = "\n".join(
        f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}"
        for name, value in (headers or {}).items()
    )
    return LUA_TEMPLATE % (quoted, header_lines) + COUNTERS


def _milliseconds(text: str) -> float:
    match = re.fullmatch(_DURATION, text)
    if not match:
        raise ValueError(f"Not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse(output: str) -> Result:
    """The numbers of a `wrk --latency` report."""
    percentiles = {
        int(percent): _milliseconds(value)
        for percent, value in re.findall(r"^\s+(50|90|99)(?:\.0+)?%\s+(\S+)\s*$", output, re.M)
    }
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in ", output, re.M)
    if not rate or not total or set(percentiles) != {50, 90, 99}:
        raise ValueError(f"Unexpected wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    counted = re.search(
        r"^cache: page (\d+) hits (\d+) misses, fragments (\d+) of (\d+)", output, re.M
    )
    counts = [int(n) for n in counted.groups()] if counted else [0, 0, 0, 0]
    return Result(
        page_hits=counts[0],
        page_misses=counts[1],
        fragment_hits=counts[2],
        fragments=counts[3],
        p50_ms=percentiles[50],
        p90_ms=percentiles[90],
        p99_ms=percentiles[99],
        requests_per_second=float(rate.group(1)),
        requests=int(total.group(1)),
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def run(
    *,
    base_url: str,
    paths: list[str],
    script_path: Path,
    duration_seconds: int,
    connections: int,
    threads: int,
    headers: dict[str, str] | None = None,
    etags: list[str] | None = None,
) -> Result:
    script_path.write_text(lua_script(paths, headers, etags), encoding="utf-8")
    command = [
        executable() or "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration_seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script_path),
        base_url,
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=duration_seconds + 60
    )
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr.strip()}")
    return parse(completed.stdout)
