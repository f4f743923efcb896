"""URL functions: URL_EXTRACT_*, URL_ENCODE_PARAM, URL_DECODE_PARAM."""
from __future__ import annotations

import urllib.parse
import pyarrow as pa
import pyarrow.compute as pc
from ksql.planner.arrays import broadcast
from ksql.planner.library.common import (I, S, VARIES, _nulls, constant, fn, overloads, sig,
                                         with_fallback)


# ---------------------------------------------------------------- URLs

# URLs in the plain shape (scheme://host[:port][/path][?query][#fragment], no escapes) are
# taken apart by one regular expression; anything else goes row by row.
_PLAIN = r"[A-Za-z0-9._~!$&'()*,;=:@/-]"
_URL = (r"^(?P<protocol>[A-Za-z][A-Za-z0-9+.-]*)://(?P<host>[A-Za-z0-9.-]+)(?::(?P<port>\d{1,5}))?"
        rf"(?P<path>/{_PLAIN}*)?(?:\?(?P<query>(?:{_PLAIN}|\?)*))?(?:#(?P<fragment>(?:{_PLAIN}|\?)*))?$")
_URL_FIELDS = ["protocol", "host", "port", "path", "query", "fragment"]


def url_part(part: str):
    def kernel(values, n):
        s = broadcast(values[0], n)
        parts = pc.extract_regex(s, pattern=_URL)
        unusual = pc.and_(pc.is_valid(s), pc.is_null(parts))
        value = pc.struct_field(parts, [_URL_FIELDS.index(part)])
        if part == "port":
            value = pc.cast(pc.if_else(pc.equal(value, ""), pa.scalar(None, pa.string()), value), pa.int32())
        elif part != "path":  # an empty protocol, query or fragment is NULL; an empty path ""
            value = pc.if_else(pc.equal(value, ""), pa.scalar(None, pa.string()), value)
        return value, unusual
    return kernel


def url_parameter(values, n):
    name = constant(values[1])
    if name is VARIES:
        return None
    if name is None:
        return _nulls(n)
    s = broadcast(values[0], n)
    query = pc.struct_field(pc.extract_regex(s, pattern=_URL), [_URL_FIELDS.index("query")])
    unusual = pc.or_(pc.and_(pc.is_valid(s), pc.is_null(query)), pc.match_substring_regex(s, r"[%+]"))
    escaped = "".join(c if c.isalnum() else f"\\x{{{ord(c):x}}}" for c in name)
    found = pc.extract_regex(query, pattern=rf"(?:^|&)(?P<name>{escaped})(?:=(?P<value>[^&]*))?(?:&|$)")
    return pc.struct_field(found, [1]), unusual


def url_encode(values, n):
    s = broadcast(values[0], n)
    plain = pc.match_substring_regex(s, r"^[A-Za-z0-9.*_ -]*$")
    return pc.replace_substring(s, pattern=" ", replacement="+"), pc.invert(plain)


def url_decode(values, n):
    s = broadcast(values[0], n)
    return pc.replace_substring(s, pattern="+", replacement=" "), pc.match_substring(s, "%")


# ---------------------------------------------------------------- URLs

def _url(part):
    """One part of a URL as Java's java.net.URI gives it (ksqlDB's URL functions): the host as
    written, the path, query and fragment with their %XX escapes decoded."""
    def extract(url):
        parsed = urllib.parse.urlsplit(url)
        if part == "host":
            host = parsed.netloc.rpartition("@")[2]  # no user info
            host = host[:host.find("]") + 1] if host.startswith("[") else host.partition(":")[0]
            return host or None
        if part == "port":
            return parsed.port
        if part == "path":
            return urllib.parse.unquote(parsed.path)
        if part == "protocol":
            return parsed.scheme or None
        if part == "query":
            return urllib.parse.unquote(parsed.query) if parsed.query else None
        return urllib.parse.unquote(parsed.fragment) if parsed.fragment else None
    return extract


for _part, _ret in [("HOST", S), ("PORT", I), ("PATH", S), ("PROTOCOL", S), ("QUERY", S), ("FRAGMENT", S)]:
    fn(f"URL_EXTRACT_{_part}", "URL", f"The {_part.lower()} of a URL.", overloads(sig(S, ret=_ret)),
       with_fallback(url_part(_part.lower()), _url(_part.lower())), f"URL_EXTRACT_{_part}(url)")


def _url_parameter(url, name):
    values = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query, keep_blank_values=True).get(name)
    return values[0] if values else None


fn("URL_EXTRACT_PARAMETER", "URL", "The first value of a query parameter.", overloads(sig(S, S, ret=S)),
   with_fallback(url_parameter, _url_parameter), "URL_EXTRACT_PARAMETER(url, name)")
fn("URL_ENCODE_PARAM", "URL", "Escapes a value for a URL query.", overloads(sig(S, ret=S)),
   with_fallback(url_encode, lambda s: urllib.parse.quote_plus(s, safe="*").replace("~", "%7E")),
   "URL_ENCODE_PARAM(s)")
fn("URL_DECODE_PARAM", "URL", "Unescapes a URL query value.", overloads(sig(S, ret=S)),
   with_fallback(url_decode, lambda s: urllib.parse.unquote_plus(s)), "URL_DECODE_PARAM(s)")
