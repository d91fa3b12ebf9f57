using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Scrubbing;

/// <summary>What the scrubber removes. Bound from <c>ErrorCoordinator:Scrubbing</c>.</summary>
public sealed class ScrubbingOptions
{
    public const string Section = "ErrorCoordinator:Scrubbing";

    public bool Enabled { get; set; } = true;

    /// <summary>Text that replaces a removed secret (Sentry uses the same marker).</summary>
    public string Replacement { get; set; } = "[Filtered]";

    /// <summary>
    /// Key names whose values are secrets, matched as substrings, case-insensitively, in key=value,
    /// key: value and "key": "value" forms and in tag names.
    /// </summary>
    public List<string> SensitiveKeys { get; set; } =
    [
        "password", "passwd", "pwd", "secret", "token", "api_key", "apikey", "api-key", "auth",
        "credential", "private_key", "privatekey", "access_key", "accesskey", "session_id", "cookie",
    ];

    /// <summary>Replace e-mail addresses with [email]. Off by default.</summary>
    public bool ScrubEmails { get; set; }

    /// <summary>Replace IPv4 and IPv6 addresses with [ip]. Off by default.</summary>
    public bool ScrubIpAddresses { get; set; }
}

/// <summary>
/// Removes secrets from text before anything is stored or published. Order: PEM private key blocks,
/// credentials in URLs, authorization schemes (Bearer/Basic/Token), well-known token formats (JWT, AWS,
/// GitHub, Slack), sensitive key=value pairs, card numbers (Luhn-checked), then optional e-mail and IP.
/// </summary>
public sealed partial class SecretScrubber
{
    private readonly ScrubbingOptions _options;
    private readonly Regex _keyValue;
    private readonly string[] _sensitiveKeys;
    private readonly Regex _flag;

    public SecretScrubber(IOptions<ScrubbingOptions> options)
    {
        _options = options.Value;
        _sensitiveKeys = _options.SensitiveKeys.Where(k => !string.IsNullOrWhiteSpace(k)).Select(k => k.ToLowerInvariant()).ToArray();
        var alternatives = string.Join("|", _sensitiveKeys.Select(Regex.Escape));
        // A key containing a sensitive word, optionally quoted, then = or :, then a quoted or bare value.
        _keyValue = new Regex(
            $@"(?<key>[""']?[\w.\-]*(?:{alternatives})[\w.\-]*[""']?)(?<sep>\s*[:=]\s*)(?<value>""(?:[^""\\]|\\.)*""|'(?:[^'\\]|\\.)*'|[^\s,;&}}\])""']+)",
            // Linear-time matching: no timeout needed, and no catastrophic backtracking on hostile input.
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
        // Command-line flags: --password hunter2, --api-key abc (the = form is a key=value pair above).
        _flag = new Regex($@"(?<flag>--[\w\-]*(?:{alternatives})[\w\-]*\s+)(?<value>[^\s\-]\S*)",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    }

    public bool Enabled => _options.Enabled;

    public string? Scrub(string? text)
    {
        if (!_options.Enabled || string.IsNullOrEmpty(text)) return text;
        var r = _options.Replacement;
        var s = text;
        if (s.Contains("-----BEGIN", StringComparison.Ordinal)) s = PemBlock().Replace(s, r);
        if (s.Contains("://", StringComparison.Ordinal)) s = UrlCredentials().Replace(s, m => m.Groups["scheme"].Value + m.Groups["user"].Value + ":" + r + "@" + m.Groups["host"].Value);
        s = AuthScheme().Replace(s, m => m.Groups["scheme"].Value + " " + r);
        s = KnownTokens().Replace(s, r);
        s = _keyValue.Replace(s, m => m.Groups["key"].Value + m.Groups["sep"].Value + Quote(m.Groups["value"].Value, r));
        if (s.Contains("--", StringComparison.Ordinal)) s = _flag.Replace(s, m => m.Groups["flag"].Value + r);
        s = CardCandidate().Replace(s, m => IsLuhnValid(m.Value) ? r : m.Value);
        if (_options.ScrubEmails) s = Email().Replace(s, "[email]");
        if (_options.ScrubIpAddresses)
        {
            s = Ipv4().Replace(s, "[ip]");
            s = Ipv6().Replace(s, "[ip]");
        }
        return s;
    }

    /// <summary>Scrubs tag values; a tag whose key is sensitive loses its whole value.</summary>
    public IReadOnlyDictionary<string, string> ScrubTags(IReadOnlyDictionary<string, string>? tags)
    {
        if (tags is null || tags.Count == 0) return new Dictionary<string, string>();
        var result = new Dictionary<string, string>(tags.Count, StringComparer.Ordinal);
        foreach (var (key, value) in tags)
            result[key] = _options.Enabled && IsSensitiveKey(key) ? _options.Replacement : Scrub(value) ?? "";
        return result;
    }

    public bool IsSensitiveKey(string key)
    {
        var k = key.ToLowerInvariant();
        foreach (var s in _sensitiveKeys)
            if (k.Contains(s, StringComparison.Ordinal)) return true;
        return false;
    }

    private static string Quote(string original, string replacement) =>
        original.Length >= 2 && (original[0] == '"' || original[0] == '\'') ? original[0] + replacement + original[0] : replacement;

    internal static bool IsLuhnValid(string candidate)
    {
        int sum = 0, digits = 0;
        var alternate = false;
        for (var i = candidate.Length - 1; i >= 0; i--)
        {
            var c = candidate[i];
            if (c is ' ' or '-') continue;
            if (c is < '0' or > '9') return false;
            var d = c - '0';
            if (alternate)
            {
                d *= 2;
                if (d > 9) d -= 9;
            }
            sum += d;
            digits++;
            alternate = !alternate;
        }
        return digits is >= 13 and <= 19 && sum % 10 == 0;
    }

    [GeneratedRegex(@"-----BEGIN (?<kind>[A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(-----END \k<kind>PRIVATE KEY-----|$)", RegexOptions.CultureInvariant)]
    private static partial Regex PemBlock();

    // The user may be empty (redis://:secret@host); the password runs to the authority's last '@', so an unencoded
    // '@' inside it does not leave a tail behind.
    [GeneratedRegex(@"(?<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*://)(?<user>[^\s:/@]*):(?<pass>[^\s/]+)@(?<host>[^\s@/]*)", RegexOptions.CultureInvariant)]
    private static partial Regex UrlCredentials();

    [GeneratedRegex(@"\b(?<scheme>Bearer|Basic|Token|Digest)\s+(?!\[Filtered\])[A-Za-z0-9\-._~+/]+=*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AuthScheme();

    // JWTs, AWS access key ids, GitHub tokens, Slack tokens, Stripe-style secret keys, OpenAI/Anthropic keys, Google API keys.
    [GeneratedRegex(@"\beyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bgithub_pat_[A-Za-z0-9_]{30,}\b|\bxox[abprs]-[A-Za-z0-9\-]{10,}\b|\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}\b|\bsk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_\-]{20,}|\bAIza[0-9A-Za-z_\-]{35}\b", RegexOptions.CultureInvariant)]
    private static partial Regex KnownTokens();

    [GeneratedRegex(@"(?<![\w\-])\d(?:[ \-]?\d){12,18}(?![\w\-])", RegexOptions.CultureInvariant)]
    private static partial Regex CardCandidate();

    [GeneratedRegex(@"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b", RegexOptions.CultureInvariant)]
    private static partial Regex Email();

    [GeneratedRegex(@"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b", RegexOptions.CultureInvariant)]
    private static partial Regex Ipv4();

    [GeneratedRegex(@"(?<![\w:])(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{1,4}(?![\w:])|(?<![\w:])(?:[0-9a-fA-F]{1,4}:){1,7}:(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4}){0,6})?(?![\w:])", RegexOptions.CultureInvariant)]
    private static partial Regex Ipv6();
}
