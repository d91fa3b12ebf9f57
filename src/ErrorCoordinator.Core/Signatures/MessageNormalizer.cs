using System.Buffers;
using System.Text;

namespace ErrorCoordinator.Core.Signatures;

/// <summary>
/// Turns a message into tokens with variable parts replaced by <c>&lt;*&gt;</c>, with hand-written scanners
/// (no regular expressions: one pass per token, allocation only for the tokens it returns).
/// <para>The order, first match wins:</para>
/// <list type="number">
/// <item>Message level: ANSI colour and control sequences are stripped; the scrubber's <c>[Filtered]</c> marker
/// becomes <c>&lt;*&gt;</c>; the message is split on white space.</item>
/// <item>Multi-token dates collapse into one <c>&lt;*&gt;</c>: syslog and ctime (<c>Jun 14 15:16:01</c>,
/// <c>Tue Jun 14 15:16:01 UTC 2016</c>), RFC 1123 (<c>Tue, 15 Nov 1994 08:12:31 GMT</c>), an ISO date followed by a
/// time (<c>2015-10-18 18:01:47,978</c>), and the compact <c>081109 203615</c> (yymmdd hhmmss, both validated).</item>
/// <item>Per token, after setting aside wrapping punctuation (<c>( [ { &lt; " '</c> before, <c>) ] } &gt; " ' , ; : . ! ?</c>
/// after), the whole token is a placeholder when it is one of: URL (<c>scheme://…</c>); e-mail; W3C traceparent;
/// UUID; IPv4 with optional <c>:port</c> (and a leading <c>/</c>); IPv6 (also <c>[v6]:port</c>); a date or time
/// (ISO-8601, <c>yyyy/mm/dd</c>, <c>dd/mm/yyyy</c>, <c>hh:mm:ss[.,fff]</c>, <c>2005-06-03-15.42.50.363779</c>);
/// <c>0x</c> hex; a number (int, float, signed, exponent, thousands separators) with an optional unit: durations
/// (<c>300ms</c>, <c>1.5s</c>, <c>5m</c>, <c>1h30m</c>), sizes (<c>64MB</c>, <c>9.2KiB</c>), <c>%</c>, ordinals
/// (<c>2nd</c>); a hex string of 6+ characters with a digit (SHA1, MD5, SHA256, git shas, ids); a file path
/// (absolute, <c>~/</c>, <c>./</c>, <c>../</c>, <c>C:\</c>, UNC, or relative with 2+ separators or a file extension:
/// temp dirs are paths); a host name with a known top-level domain (<c>db.example.com:5432</c>); a temp name
/// (<c>tmpa1b2c3d4</c>).</item>
/// <item><c>key=value</c>: the key is kept, the value masked (<c>user=bob</c> → <c>user=&lt;*&gt;</c>).</item>
/// <item>Then, across tokens: a number followed by a unit token (<c>5.2 KB</c>, <c>300 ms</c>) is one
/// <c>&lt;*&gt;</c>, and repeats of the same masked token (<c>blk_1 blk_2 blk_3</c>, <c>3552 3534 3391</c>) collapse
/// into one, so a list of values of any length gives one template.</item>
/// <item>Known words with digits are kept whole: <c>x86_64</c>, <c>utf-8</c>, <c>iso-8859-1</c> and the like.</item>
/// <item>Otherwise, within the token, each alphanumeric run is looked at: a run of digits standing apart
/// (<c>blk_-123</c> → <c>blk_&lt;*&gt;</c>, <c>core.114</c> → <c>core.&lt;*&gt;</c>, <c>db-7:5432</c> →
/// <c>db-&lt;*&gt;:&lt;*&gt;</c>, <c>sshd[1234]</c> → <c>sshd[&lt;*&gt;]</c>, floats and signs included) is masked; a number
/// with a unit likewise; a hex run of 6+ with a digit; a random-looking id (8+ characters, 3+ letter/digit
/// alternations); and the digits of letters followed by 4+ digits (<c>KB3163245</c> → <c>KB&lt;*&gt;</c>).</item>
/// </list>
/// <para>False positives avoided, on purpose: digits glued to letters stay (<c>utf8</c>, <c>log4j</c>, <c>ipv6</c>,
/// <c>sha256</c>, <c>v2</c>, <c>x86</c>, <c>Win32</c>) unless 4 or more trail the letters; a version continuing a
/// kept run stays (<c>v1.2.3</c>, <c>TLSv1.2</c>, <c>python3.11</c>); a protocol version stays (<c>HTTP/1.1</c>,
/// <c>HTTP/2</c>); <c>Class::method</c> and dotted class names (<c>java.io.IOException</c>) are not hosts (a host
/// needs a known top-level domain) nor IPv6 (IPv6 needs hex groups and a digit). A bare version
/// (<c>upgrading to 2.4.0</c>) is masked: without a prefix it cannot be told from a number.</para>
/// </summary>
public sealed class MessageNormalizer
{
    public const string Placeholder = "<*>";

    /// <summary>The shared instance: the normalizer has no state.</summary>
    public static readonly MessageNormalizer Default = new();

    private static readonly string[] Months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    private static readonly string[] Weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    private static readonly HashSet<string> Zones = new(StringComparer.OrdinalIgnoreCase)
    {
        "UTC", "GMT", "Z", "PST", "PDT", "EST", "EDT", "CST", "CDT", "MST", "MDT", "CET", "CEST", "BST", "IST", "JST", "AEST", "AEDT",
    };

    private static readonly HashSet<string> Tlds = new(StringComparer.OrdinalIgnoreCase)
    {
        "com", "net", "org", "io", "edu", "gov", "mil", "int", "info", "biz", "dev", "app", "cloud", "ai", "co", "us", "uk",
        "de", "fr", "jp", "cn", "ru", "br", "au", "ca", "eu", "nl", "local", "localdomain", "internal", "lan", "corp",
        "home", "arpa", "svc", "cluster", "example", "test", "invalid", "localhost",
    };

    // Known words whose digits stand apart but are template text.
    private static readonly HashSet<string> KeepWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "x86_64", "x86-64", "amd64", "i386", "i686", "arm64", "aarch64", "utf-8", "utf-16", "utf-16le", "utf-16be", "utf-32",
        "iso-8859-1", "iso-8859-15", "ucs-2", "windows-1252", "cp-1252", "http/1.0", "http/1.1", "http/2", "http/3", "e2e",
    };

    private static readonly HashSet<string> UnitSuffixes = new(StringComparer.OrdinalIgnoreCase)
    {
        "ns", "us", "µs", "ms", "s", "sec", "secs", "second", "seconds", "m", "min", "mins", "minute", "minutes", "h", "hr", "hrs",
        "hour", "hours", "d", "day", "days", "b", "kb", "mb", "gb", "tb", "pb", "kib", "mib", "gib", "tib", "k", "g", "x",
        "st", "nd", "rd", "th", "bytes", "ops", "rps", "qps", "hz", "khz", "mhz", "ghz", "px", "kbps", "mbps", "gbps",
    };

    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> ZoneLookup = Zones.GetAlternateLookup<ReadOnlySpan<char>>();
    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> TldLookup = Tlds.GetAlternateLookup<ReadOnlySpan<char>>();
    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> KeepLookup = KeepWords.GetAlternateLookup<ReadOnlySpan<char>>();
    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> UnitLookup = UnitSuffixes.GetAlternateLookup<ReadOnlySpan<char>>();

    // Units that follow a number as their own token; single letters other than B are too ambiguous.
    private static readonly HashSet<string> SpacedUnits = new(StringComparer.Ordinal)
    {
        "ns", "us", "µs", "ms", "sec", "secs", "second", "seconds", "min", "mins", "minute", "minutes", "hr", "hrs", "hour", "hours",
        "day", "days", "B", "KB", "kB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "bytes", "Bytes", "kbps", "Mbps", "Gbps",
    };

    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> SpacedUnitLookup = SpacedUnits.GetAlternateLookup<ReadOnlySpan<char>>();

    private static bool IsNumberStart(char c) => char.IsAsciiDigit(c) || c is '-' or '+' or '(' or '[';

    [ThreadStatic] private static StringBuilder? t_builder;
    [ThreadStatic] private static List<string>? t_tokens;

    /// <summary>The normalized message: tokens joined by single spaces.</summary>
    public string Normalize(string message)
    {
        var tokens = t_tokens ??= new List<string>(32);
        tokens.Clear();
        Tokenize(message, tokens);
        return string.Join(' ', tokens);
    }

    /// <summary>Appends the normalized tokens of <paramref name="message"/> to <paramref name="tokens"/>.</summary>
    public void Tokenize(string message, List<string> tokens, int maxTokens = int.MaxValue)
    {
        if (message.Contains('\u001b')) message = StripAnsi(message);
        if (message.Contains("[Filtered]", StringComparison.Ordinal)) message = message.Replace("[Filtered]", Placeholder, StringComparison.Ordinal);

        var span = message.AsSpan();
        var ranges = ArrayPool<Range>.Shared.Rent(Math.Min(span.Length / 2 + 2, 1 << 16));
        try
        {
            var count = 0;
            var i = 0;
            while (i < span.Length && count < ranges.Length)
            {
                while (i < span.Length && char.IsWhiteSpace(span[i])) i++;
                if (i >= span.Length) break;
                var start = i;
                while (i < span.Length && !char.IsWhiteSpace(span[i])) i++;
                ranges[count++] = new Range(start, i);
            }

            var first = tokens.Count;
            for (var t = 0; t < count && tokens.Count < maxTokens; t++)
            {
                var consumed = DateSequenceLength(span, ranges, t, count);
                if (consumed > 0)
                {
                    tokens.Add(Placeholder);
                    t += consumed - 1;
                    continue;
                }
                var (s, e) = (ranges[t].Start.Value, ranges[t].End.Value);
                var token = NormalizeToken(message, s, e - s);
                // A number and its unit written apart (5.2 KB, 300 ms) are one value.
                if (ReferenceEquals(token, Placeholder) && t + 1 < count && IsNumberStart(span[s]))
                {
                    var next = span[ranges[t + 1]];
                    var unitEnd = next.Length;
                    while (unitEnd > 0 && next[unitEnd - 1] is ',' or ';' or ')' or ']' or '.') unitEnd--;
                    if (unitEnd > 0 && SpacedUnitLookup.Contains(next[..unitEnd]))
                    {
                        token = unitEnd == next.Length ? Placeholder : string.Concat(Placeholder, next[unitEnd..]);
                        t++;
                    }
                }
                // A list of values (blk_1 blk_2 blk_3) is one value: repeats of the same masked token collapse.
                if (tokens.Count > first && token.Contains(Placeholder, StringComparison.Ordinal) && string.Equals(tokens[^1], token, StringComparison.Ordinal))
                    continue;
                tokens.Add(token);
            }
        }
        finally
        {
            ArrayPool<Range>.Shared.Return(ranges);
        }
    }

    // ---------------------------------------------------------------- message level

    internal static string StripAnsi(string s)
    {
        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c != '\u001b') { sb.Append(c); continue; }
            if (i + 1 < s.Length && s[i + 1] == '[')
            {
                // CSI: parameters and intermediates, then one final byte in @..~.
                var j = i + 2;
                while (j < s.Length && s[j] is >= '0' and <= '?') j++;
                while (j < s.Length && s[j] is >= ' ' and <= '/') j++;
                i = j < s.Length ? j : s.Length - 1;
            }
            else if (i + 1 < s.Length && s[i + 1] == ']')
            {
                // OSC: up to BEL or ESC \.
                var j = i + 2;
                while (j < s.Length && s[j] != '\u0007' && !(s[j] == '\u001b' && j + 1 < s.Length && s[j + 1] == '\\')) j++;
                i = j < s.Length && s[j] == '\u001b' ? j + 1 : j;
            }
            else i++;
        }
        return sb.ToString();
    }

    // ---------------------------------------------------------------- multi-token dates

    private static ReadOnlySpan<char> TokenAt(ReadOnlySpan<char> s, Range[] r, int i) => s[r[i]];

    private static ReadOnlySpan<char> TrimComma(ReadOnlySpan<char> t) => t.Length > 1 && t[^1] == ',' ? t[..^1] : t;

    /// <summary>How many tokens from <paramref name="t"/> form one date (0 when none, at least 2 otherwise).</summary>
    private static int DateSequenceLength(ReadOnlySpan<char> s, Range[] r, int t, int count)
    {
        if (t + 1 >= count) return 0;
        var first = TrimComma(TokenAt(s, r, t));
        if (first.Length == 0) return 0;
        var i = t;
        if (char.IsAsciiLetter(first[0]))
        {
            if (IsWord(first, Weekdays)) i++;
            if (i >= count) return 0;
            var tok = TrimComma(TokenAt(s, r, i));
            if (IsWord(tok, Months))
            {
                // Month Day [Year] [Time] [Zone] [Year]: syslog, ctime.
                i++;
                if (i >= count || !IsDay(TrimComma(TokenAt(s, r, i)))) return 0;
                i++;
                var any = false;
                if (i < count && IsYear(TrimComma(TokenAt(s, r, i)))) { i++; any = true; }
                if (i < count && IsTime(TrimComma(TokenAt(s, r, i)))) { i++; any = true; }
                if (!any) return 0;
                if (i < count && ZoneLookup.Contains(TrimComma(TokenAt(s, r, i)))) i++;
                if (i < count && IsYear(TrimComma(TokenAt(s, r, i)))) i++;
                return i - t;
            }
            if (i == t || !IsDay(tok)) return 0;
            // Weekday, Day Month Year [Time] [Zone]: RFC 1123.
            return RfcTail(s, r, i, count, t);
        }
        if (char.IsAsciiDigit(first[0]))
        {
            if (IsDay(first) && t + 2 < count && IsWord(TrimComma(TokenAt(s, r, t + 1)), Months)) return RfcTail(s, r, t, count, t);
            if (IsIsoDate(first) && IsTime(TrimComma(TokenAt(s, r, t + 1))))
            {
                i = t + 2;
                if (i < count && IsZone(TrimComma(TokenAt(s, r, i)))) i++;
                return i - t;
            }
            if (IsCompactDate(first) && IsCompactTime(TokenAt(s, r, t + 1))) return 2;
        }
        return 0;
    }

    private static int RfcTail(ReadOnlySpan<char> s, Range[] r, int dayIndex, int count, int t)
    {
        var i = dayIndex + 1;
        if (i >= count || !IsWord(TrimComma(TokenAt(s, r, i)), Months)) return 0;
        i++;
        if (i >= count || !IsYear(TrimComma(TokenAt(s, r, i)))) return 0;
        i++;
        if (i < count && IsTime(TrimComma(TokenAt(s, r, i)))) i++;
        if (i < count && IsZone(TrimComma(TokenAt(s, r, i)))) i++;
        return i - t;
    }

    private static bool IsWord(ReadOnlySpan<char> t, string[] words)
    {
        if (t.Length < 3) return false;
        var head = t[..3];
        foreach (var w in words)
        {
            if (!head.Equals(w, StringComparison.OrdinalIgnoreCase)) continue;
            if (t.Length == 3) return true;
            // Full names (June, Tuesday) and "Sept".
            for (var k = 3; k < t.Length; k++) if (!char.IsAsciiLetterLower(t[k])) return false;
            return t.Length <= 9;
        }
        return false;
    }

    private static bool IsDay(ReadOnlySpan<char> t) =>
        t.Length is 1 or 2 && AllDigits(t) && int.Parse(t) is >= 1 and <= 31;

    private static bool IsYear(ReadOnlySpan<char> t) => t.Length == 4 && AllDigits(t) && t[0] is '1' or '2';

    private static bool IsZone(ReadOnlySpan<char> t)
    {
        if (t.Length == 0) return false;
        if (ZoneLookup.Contains(t)) return true;
        if (t[0] is '+' or '-')
        {
            var rest = t[1..];
            return (rest.Length == 4 && AllDigits(rest)) || (rest.Length == 5 && rest[2] == ':' && AllDigits(rest[..2]) && AllDigits(rest[3..]));
        }
        return false;
    }

    private static bool IsCompactDate(ReadOnlySpan<char> t) =>
        t.Length == 6 && AllDigits(t) && Two(t, 2) is >= 1 and <= 12 && Two(t, 4) is >= 1 and <= 31;

    private static bool IsCompactTime(ReadOnlySpan<char> t) =>
        t.Length == 6 && AllDigits(t) && Two(t, 0) <= 23 && Two(t, 2) <= 59 && Two(t, 4) <= 60;

    private static int Two(ReadOnlySpan<char> t, int at) => (t[at] - '0') * 10 + (t[at + 1] - '0');

    /// <summary>yyyy-mm-dd or yyyy/mm/dd (also with a time glued by T), dd/mm/yyyy, mm/dd/yyyy.</summary>
    private static bool IsIsoDate(ReadOnlySpan<char> t)
    {
        if (t.Length == 10 && AllDigits(t[..4]) && t[4] is '-' or '/' && t[7] == t[4] && AllDigits(t.Slice(5, 2)) && AllDigits(t.Slice(8, 2)))
            return true;
        return t.Length == 10 && AllDigits(t[..2]) && t[2] is '/' or '.' or '-' && t[5] == t[2] && AllDigits(t.Slice(3, 2)) && AllDigits(t.Slice(6, 4));
    }

    /// <summary>h:mm, hh:mm:ss, hh:mm:ss.fff or ,fff, with an optional Z or offset.</summary>
    private static bool IsTime(ReadOnlySpan<char> t)
    {
        var i = 0;
        var n = DigitRun(t, i);
        if (n is < 1 or > 2) return false;
        i += n;
        if (i >= t.Length || t[i] != ':') return false;
        i++;
        if (DigitRun(t, i) != 2) return false;
        i += 2;
        if (i < t.Length && t[i] == ':')
        {
            i++;
            if (DigitRun(t, i) != 2) return false;
            i += 2;
            if (i < t.Length && t[i] is '.' or ',')
            {
                i++;
                var f = DigitRun(t, i);
                if (f == 0) return false;
                i += f;
            }
        }
        if (i == t.Length) return true;
        var rest = t[i..];
        return rest is "Z" or "z" || IsZone(rest);
    }

    private static bool IsDateTime(ReadOnlySpan<char> t)
    {
        if (t.Length >= 10 && IsIsoDate(t[..10]))
        {
            if (t.Length == 10) return true;
            var sep = t[10];
            if (sep is 'T' or 't' or '_') return IsTime(t[11..]);
            // DB2 style: 2005-06-03-15.42.50.363779
            if (sep == '-' && t.Length >= 19 && t[13] == '.' && t[16] == '.' && AllDigits(t.Slice(11, 2)) && AllDigits(t.Slice(14, 2)) && AllDigits(t.Slice(17, 2)))
                return t.Length == 19 || (t[19] == '.' && t.Length > 20 && AllDigits(t[20..]));
            return false;
        }
        return IsTime(t);
    }

    // ---------------------------------------------------------------- per token

    private static string NormalizeToken(string message, int start, int length)
    {
        var token = message.AsSpan(start, length);
        if (token.SequenceEqual(Placeholder)) return Placeholder;

        // Set wrapping punctuation aside.
        int a = 0, b = token.Length;
        while (a < b && token[a] is '(' or '[' or '{' or '"' or '\'' or '<' && !token[a..].StartsWith(Placeholder)) a++;
        while (b > a && token[b - 1] is ')' or ']' or '}' or '"' or '\'' or ',' or ';' or ':' or '.' or '!' or '?' or '>'
               && !(token[b - 1] == '>' && token[a..b].EndsWith(Placeholder))) b--;
        if (a == b) return message.Substring(start, length);
        var core = token[a..b];

        if (IsWholeVariable(core) || IsBracketedIpv6(token, ref a, ref b))
            return Concat(token[..a], Placeholder, token[b..]);

        if (KeepLookup.Contains(core)) return message.Substring(start, length);

        var eq = KeyLength(core);
        if (eq > 0)
        {
            var value = core[(eq + 1)..];
            return value.Length == 0 || value.SequenceEqual(Placeholder)
                ? message.Substring(start, length)
                : Concat(token[..(a + eq + 1)], Placeholder, token[b..]);
        }

        return MaskRuns(message, start, length);
    }

    private static string Concat(ReadOnlySpan<char> before, string middle, ReadOnlySpan<char> after) =>
        before.IsEmpty && after.IsEmpty ? middle : string.Concat(before, middle, after);

    /// <summary>The key's length when the token is key=value with an identifier key (and not a URL); else 0.</summary>
    private static int KeyLength(ReadOnlySpan<char> core)
    {
        var eq = core.IndexOf('=');
        if (eq <= 0) return 0;
        if (!(char.IsAsciiLetter(core[0]) || core[0] == '_')) return 0;
        for (var i = 1; i < eq; i++)
            if (!(char.IsAsciiLetterOrDigit(core[i]) || core[i] is '_' or '.' or '-')) return 0;
        return eq;
    }

    internal static bool IsWholeVariable(ReadOnlySpan<char> t)
    {
        if (t.SequenceEqual(Placeholder)) return true;
        var c0 = t[0];
        if (IsUrl(t) || IsEmail(t)) return true;
        if (char.IsAsciiHexDigit(c0) && (IsTraceparent(t) || IsUuid(t))) return true;
        if (IsIpv4(c0 == '/' ? t[1..] : t) || IsIpv6(t)) return true;
        if (char.IsAsciiDigit(c0) && IsDateTime(t)) return true;
        if (t.Length > 2 && c0 == '0' && t[1] is 'x' or 'X' && AllHex(t[2..])) return true;
        if (IsNumberWithUnit(t)) return true;
        if (t.Length >= 6 && AllHex(t) && HasDigit(t)) return true;
        if (IsPath(t)) return true;
        if (IsHostname(t)) return true;
        if (IsTempName(t)) return true;
        return false;
    }

    private static bool IsUrl(ReadOnlySpan<char> t)
    {
        var at = t.IndexOf("://");
        if (at <= 0 || at + 3 >= t.Length) return false;
        var eq = t.IndexOf('=');
        if (eq >= 0 && eq < at) return false;
        if (!char.IsAsciiLetter(t[0])) return false;
        for (var i = 1; i < at; i++) if (!(char.IsAsciiLetterOrDigit(t[i]) || t[i] is '+' or '.' or '-')) return false;
        return true;
    }

    private static bool IsEmail(ReadOnlySpan<char> t)
    {
        var at = t.IndexOf('@');
        if (at <= 0 || at != t.LastIndexOf('@')) return false;
        for (var i = 0; i < at; i++) if (!(char.IsAsciiLetterOrDigit(t[i]) || t[i] is '.' or '_' or '%' or '+' or '-')) return false;
        var domain = t[(at + 1)..];
        var dot = domain.LastIndexOf('.');
        if (dot <= 0 || domain.Length - dot - 1 < 2) return false;
        for (var i = 0; i < domain.Length; i++) if (!(char.IsAsciiLetterOrDigit(domain[i]) || domain[i] is '.' or '-')) return false;
        for (var i = dot + 1; i < domain.Length; i++) if (!char.IsAsciiLetter(domain[i])) return false;
        return true;
    }

    private static bool IsTraceparent(ReadOnlySpan<char> t) =>
        t.Length == 55 && t[2] == '-' && t[35] == '-' && t[52] == '-' &&
        AllHex(t[..2]) && AllHex(t.Slice(3, 32)) && AllHex(t.Slice(36, 16)) && AllHex(t.Slice(53, 2));

    private static bool IsUuid(ReadOnlySpan<char> t) =>
        t.Length == 36 && t[8] == '-' && t[13] == '-' && t[18] == '-' && t[23] == '-' &&
        AllHex(t[..8]) && AllHex(t.Slice(9, 4)) && AllHex(t.Slice(14, 4)) && AllHex(t.Slice(19, 4)) && AllHex(t[24..]);

    private static bool IsIpv4(ReadOnlySpan<char> t)
    {
        var i = 0;
        for (var part = 0; part < 4; part++)
        {
            if (part > 0)
            {
                if (i >= t.Length || t[i] != '.') return false;
                i++;
            }
            var n = DigitRun(t, i);
            if (n is < 1 or > 3 || int.Parse(t.Slice(i, n)) > 255) return false;
            i += n;
        }
        if (i == t.Length) return true;
        if (t[i] != ':') return false;
        var p = DigitRun(t, i + 1);
        return p is >= 1 and <= 5 && i + 1 + p == t.Length;
    }

    private static bool IsIpv6(ReadOnlySpan<char> t)
    {
        var zone = t.IndexOf('%');
        if (zone > 0) t = t[..zone];
        if (t.Length < 3 || t.Count(':') < 2 || !HasDigit(t)) return false;
        var doubleColon = t.IndexOf("::");
        if (doubleColon >= 0 && t[(doubleColon + 1)..].IndexOf("::") >= 0) return false;
        var groups = 0;
        var run = 0;
        for (var i = 0; i < t.Length; i++)
        {
            var c = t[i];
            if (c == ':') { run = 0; continue; }
            if (c == '.')
            {
                // An embedded IPv4 tail: ::ffff:10.0.0.1
                var lastColon = t[..i].LastIndexOf(':');
                return IsIpv4(t[(lastColon + 1)..]) && groups <= 7;
            }
            if (!char.IsAsciiHexDigit(c)) return false;
            if (run == 0) groups++;
            if (++run > 4) return false;
        }
        return groups <= 8 && (doubleColon >= 0 || groups == 8);
    }

    /// <summary>[v6]:port, with the brackets inside the token; widens the core to cover them.</summary>
    private static bool IsBracketedIpv6(ReadOnlySpan<char> token, ref int a, ref int b)
    {
        var open = token.IndexOf('[');
        if (open < 0) return false;
        var close = token[open..].IndexOf(']');
        if (close < 0) return false;
        close += open;
        if (!IsIpv6(token[(open + 1)..close])) return false;
        var end = close + 1;
        if (end < token.Length && token[end] == ':')
        {
            var p = DigitRun(token, end + 1);
            if (p > 0) end += 1 + p;
        }
        a = open;
        b = end;
        return true;
    }

    private static bool IsNumberWithUnit(ReadOnlySpan<char> t)
    {
        var i = 0;
        if (t[0] is '+' or '-') i++;
        var any = false;
        while (true)
        {
            var n = DigitRun(t, i);
            if (n == 0) return false;
            i += n;
            // Fraction or thousands groups.
            while (i + 1 < t.Length && t[i] is '.' or ',' && char.IsAsciiDigit(t[i + 1]))
                i += 1 + DigitRun(t, i + 1);
            if (i + 1 < t.Length && t[i] is 'e' or 'E' && (char.IsAsciiDigit(t[i + 1]) || (t[i + 1] is '+' or '-' && i + 2 < t.Length && char.IsAsciiDigit(t[i + 2]))))
            {
                i += t[i + 1] is '+' or '-' ? 2 : 1;
                i += DigitRun(t, i);
            }
            if (i == t.Length) return true;
            if (t[i] == '%') return i + 1 == t.Length;
            var u = i;
            while (u < t.Length && (char.IsAsciiLetter(t[u]) || t[u] == 'µ')) u++;
            if (u == i || !IsUnit(t[i..u])) return false;
            i = u;
            any = true;
            if (i == t.Length) return any;
            // Go-style compound durations: 1h30m5.5s.
            if (!char.IsAsciiDigit(t[i])) return t[i..] is "/s" or "/sec";
        }
    }

    private static bool IsUnit(ReadOnlySpan<char> unit) => unit.Length <= 7 && UnitLookup.Contains(unit);

    private static bool IsPath(ReadOnlySpan<char> t)
    {
        if (t.Length < 2) return false;
        var c0 = t[0];
        if (c0 == '/') return t[1] != '/' && (char.IsAsciiLetterOrDigit(t[1]) || t[1] is '.' or '_' or '~' or '-' or '$' or '<');
        if (c0 == '~' && t[1] == '/') return true;
        if (c0 == '.' && (t[1] == '/' || t[1] == '\\' || (t.Length > 2 && t[1] == '.' && t[2] is '/' or '\\'))) return true;
        if (t.Length > 2 && char.IsAsciiLetter(c0) && t[1] == ':' && t[2] is '\\' or '/') return true;
        if (c0 == '\\' && t[1] == '\\') return true;
        // Relative: 2+ separators, or a file name with an extension at the end.
        var seps = 0;
        foreach (var c in t)
        {
            if (c is '/' or '\\') seps++;
            else if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '~' or '+' or '@' or '$')) return false;
        }
        if (seps == 0 || t[^1] is '/' or '\\' && seps == 1) return false;
        if (seps >= 2) return true;
        var lastSep = t.LastIndexOfAny('/', '\\');
        var name = t[(lastSep + 1)..];
        var dot = name.LastIndexOf('.');
        if (dot <= 0 || name.Length - dot - 1 is < 1 or > 5) return false;
        var ext = name[(dot + 1)..];
        foreach (var c in ext) if (!char.IsAsciiLetterOrDigit(c)) return false;
        return ext.IndexOfAnyInRange('a', 'z') >= 0 || ext.IndexOfAnyInRange('A', 'Z') >= 0;
    }

    private static bool IsHostname(ReadOnlySpan<char> t)
    {
        var colon = t.LastIndexOf(':');
        if (colon > 0)
        {
            var p = t[(colon + 1)..];
            if (p.Length is < 1 or > 5 || !AllDigits(p)) return false;
            t = t[..colon];
        }
        var dot = t.LastIndexOf('.');
        if (dot <= 0 || !TldLookup.Contains(t[(dot + 1)..])) return false;
        var labelLength = 0;
        foreach (var c in t)
        {
            if (c == '.')
            {
                if (labelLength == 0) return false;
                labelLength = 0;
            }
            else if (char.IsAsciiLetterOrDigit(c) || c == '-') labelLength++;
            else return false;
        }
        return labelLength > 0;
    }

    private static bool IsTempName(ReadOnlySpan<char> t) =>
        t.Length >= 9 && t.StartsWith("tmp", StringComparison.OrdinalIgnoreCase) && HasDigit(t[3..]) && AllAlnumUnderscore(t[3..]);

    // ---------------------------------------------------------------- runs inside a token

    private enum Run { Kept, Masked }

    private static string MaskRuns(string message, int start, int length)
    {
        var t = message.AsSpan(start, length);
        var sb = t_builder ??= new StringBuilder(64);
        sb.Clear();
        var changed = false;
        var prevKeptEndsDigit = false;
        var prevRunStart = -1;
        var prevRunEnd = -1;
        var i = 0;
        while (i < t.Length)
        {
            var c = t[i];
            if (!char.IsAsciiLetterOrDigit(c))
            {
                if (c == '<' && t[i..].StartsWith(Placeholder))
                {
                    sb.Append(Placeholder);
                    i += 3;
                    prevKeptEndsDigit = false;
                    continue;
                }
                sb.Append(c);
                i++;
                continue;
            }
            var j = i;
            while (j < t.Length && char.IsAsciiLetterOrDigit(t[j])) j++;
            var run = t[i..j];
            var gap = i - prevRunEnd;
            var sep = i > 0 ? t[i - 1] : '\0';
            var mask = false;
            var maskFrom = 0; // mask run[maskFrom..]
            if (run.Length > 2 && run[0] == '0' && run[1] is 'x' or 'X' && AllHex(run[2..])) mask = true;
            else if (char.IsAsciiDigit(run[0]))
            {
                var digits = DigitRun(run, 0);
                if (digits == run.Length)
                {
                    var versionContinuation = prevKeptEndsDigit && gap == 1 && sep is '.' or '_';
                    var protocolVersion = sep == '/' && gap == 1 && prevRunStart >= 0 && IsUpperWord(t[prevRunStart..prevRunEnd]);
                    mask = !versionContinuation && !protocolVersion;
                }
                else mask = IsUnit(run[digits..]) || (run.Length >= 6 && AllHex(run));
            }
            else if (HasDigit(run))
            {
                if ((run.Length >= 6 && AllHex(run)) || LooksRandom(run)) mask = true;
                else
                {
                    var trailing = 0;
                    while (trailing < run.Length && char.IsAsciiDigit(run[^(trailing + 1)])) trailing++;
                    if (trailing >= 4) { mask = true; maskFrom = run.Length - trailing; }
                }
            }

            if (!mask)
            {
                sb.Append(run);
                prevKeptEndsDigit = char.IsAsciiDigit(run[^1]);
            }
            else
            {
                changed = true;
                if (maskFrom == 0 && sb.Length > 0 && sb[^1] == '-' && (i < 2 || !char.IsAsciiLetterOrDigit(t[i - 2])))
                    sb.Length--; // a sign: blk_-123, (-27
                if (maskFrom > 0) sb.Append(run[..maskFrom]);
                sb.Append(Placeholder);
                // Swallow fractions and dotted continuations: 9.2, 1.2.3, 9.2KB.
                while (j + 1 < t.Length && t[j] == '.' && char.IsAsciiDigit(t[j + 1]))
                {
                    var k = j + 1;
                    while (k < t.Length && char.IsAsciiLetterOrDigit(t[k])) k++;
                    var next = t[(j + 1)..k];
                    var d = DigitRun(next, 0);
                    if (d != next.Length && !IsUnit(next[d..])) break;
                    j = k;
                }
                prevKeptEndsDigit = false;
            }
            prevRunStart = i;
            prevRunEnd = j;
            i = j;
        }
        return changed ? sb.ToString() : message.Substring(start, length);
    }

    /// <summary>8+ characters with 2+ digits, 2+ letters and 3+ letter/digit alternations: a generated id.</summary>
    private static bool LooksRandom(ReadOnlySpan<char> run)
    {
        if (run.Length < 8) return false;
        int digits = 0, switches = 0;
        for (var i = 0; i < run.Length; i++)
        {
            var d = char.IsAsciiDigit(run[i]);
            if (d) digits++;
            if (i > 0 && d != char.IsAsciiDigit(run[i - 1])) switches++;
        }
        return digits >= 2 && run.Length - digits >= 2 && switches >= 3;
    }

    private static bool IsUpperWord(ReadOnlySpan<char> t)
    {
        if (t.Length is < 2 or > 6) return false;
        foreach (var c in t) if (!char.IsAsciiLetterUpper(c)) return false;
        return true;
    }

    // ---------------------------------------------------------------- helpers

    private static int DigitRun(ReadOnlySpan<char> t, int from)
    {
        var i = from;
        while (i < t.Length && char.IsAsciiDigit(t[i])) i++;
        return i - from;
    }

    private static bool AllDigits(ReadOnlySpan<char> t) => t.Length > 0 && !t.ContainsAnyExceptInRange('0', '9');

    private static bool AllHex(ReadOnlySpan<char> t)
    {
        if (t.IsEmpty) return false;
        foreach (var c in t) if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }

    private static bool HasDigit(ReadOnlySpan<char> t) => t.IndexOfAnyInRange('0', '9') >= 0;

    private static bool AllAlnumUnderscore(ReadOnlySpan<char> t)
    {
        foreach (var c in t) if (!(char.IsAsciiLetterOrDigit(c) || c == '_')) return false;
        return true;
    }
}
