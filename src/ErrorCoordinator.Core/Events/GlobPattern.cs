namespace ErrorCoordinator.Core.Events;

/// <summary>Redis-style glob matching (<c>*</c>, <c>?</c>, <c>[abc]</c>, <c>\</c> escapes), for in-process subscriptions and fingerprint rules.</summary>
public static class GlobPattern
{
    public static bool IsMatch(string pattern, string text, bool ignoreCase = false) => Match(pattern.AsSpan(), text.AsSpan(), ignoreCase);

    private static bool Match(ReadOnlySpan<char> p, ReadOnlySpan<char> t, bool ic)
    {
        int pi = 0, ti = 0, starP = -1, starT = -1;
        while (ti < t.Length)
        {
            if (pi < p.Length)
            {
                var c = p[pi];
                if (c == '*')
                {
                    starP = pi++;
                    starT = ti;
                    continue;
                }
                if (c == '?')
                {
                    pi++; ti++;
                    continue;
                }
                if (c == '[')
                {
                    var end = p[pi..].IndexOf(']');
                    if (end > 1 && ClassMatches(p.Slice(pi + 1, end - 1), t[ti], ic))
                    {
                        pi += end + 1; ti++;
                        continue;
                    }
                }
                else
                {
                    if (c == '\\' && pi + 1 < p.Length) c = p[++pi];
                    if (Eq(c, t[ti], ic))
                    {
                        pi++; ti++;
                        continue;
                    }
                }
            }
            if (starP < 0) return false;
            pi = starP + 1;
            ti = ++starT;
        }
        while (pi < p.Length && p[pi] == '*') pi++;
        return pi == p.Length;
    }

    private static bool ClassMatches(ReadOnlySpan<char> set, char c, bool ic)
    {
        var negate = set.Length > 0 && set[0] == '^';
        if (negate) set = set[1..];
        var found = false;
        for (var i = 0; i < set.Length; i++)
        {
            if (i + 2 < set.Length && set[i + 1] == '-')
            {
                var lo = set[i]; var hi = set[i + 2];
                if (ic) { c = char.ToLowerInvariant(c); lo = char.ToLowerInvariant(lo); hi = char.ToLowerInvariant(hi); }
                if (c >= lo && c <= hi) found = true;
                i += 2;
            }
            else if (Eq(set[i], c, ic)) found = true;
        }
        return found != negate;
    }

    private static bool Eq(char a, char b, bool ic) => a == b || (ic && char.ToLowerInvariant(a) == char.ToLowerInvariant(b));
}
