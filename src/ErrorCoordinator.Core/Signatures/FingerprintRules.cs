using ErrorCoordinator.Core.Events;

namespace ErrorCoordinator.Core.Signatures;

/// <summary>The configured <see cref="FingerprintRule"/>s, checked once and tried in order.</summary>
public sealed class FingerprintRules
{
    public const string DefaultVariable = "default";

    private static readonly string[] Fields = ["error_type", "message", "agent", "component", "stack"];

    private readonly List<FingerprintRule> _rules;

    public FingerprintRules(IEnumerable<FingerprintRule> rules)
    {
        _rules = rules.ToList();
        var problems = Validate(_rules);
        if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems), nameof(rules));
    }

    public int Count => _rules.Count;

    /// <summary>What is wrong with the rules, one sentence per problem; empty when they are all usable.</summary>
    public static List<string> Validate(IReadOnlyList<FingerprintRule> rules)
    {
        var problems = new List<string>();
        for (var i = 0; i < rules.Count; i++)
        {
            var r = rules[i];
            if (r.Match.Count == 0) problems.Add($"Signatures:Rules:{i} has no matcher (Match).");
            foreach (var key in r.Match.Keys)
                if (!IsKnownField(key))
                    problems.Add($"Signatures:Rules:{i} matches '{key}'; matchers are {string.Join(", ", Fields)} and tags.<key>.");
            if (r.Fingerprint.Count == 0 && string.IsNullOrWhiteSpace(r.Title))
                problems.Add($"Signatures:Rules:{i} sets neither a Fingerprint nor a Title.");
        }
        return problems;
    }

    private static bool IsKnownField(string key) =>
        Fields.Contains(key, StringComparer.OrdinalIgnoreCase) || (key.StartsWith("tags.", StringComparison.OrdinalIgnoreCase) && key.Length > 5);

    /// <summary>The first rule whose matchers all match, or null.</summary>
    public FingerprintRule? Find(SignatureInput input)
    {
        foreach (var rule in _rules)
            if (Matches(rule, input)) return rule;
        return null;
    }

    private static bool Matches(FingerprintRule rule, SignatureInput input)
    {
        foreach (var (key, glob) in rule.Match)
        {
            var value = Field(input, key);
            if (value is null || !GlobPattern.IsMatch(glob, value, ignoreCase: true)) return false;
        }
        return true;
    }

    /// <summary>A matcher or variable's value; null when the event has no such field.</summary>
    public static string? Field(SignatureInput input, string key)
    {
        if (key.StartsWith("tags.", StringComparison.OrdinalIgnoreCase))
            return input.Tags.TryGetValue(key[5..], out var tag) ? tag : null;
        return key.ToLowerInvariant() switch
        {
            "error_type" or "type" => input.ErrorType,
            "message" => input.Message,
            "agent" => input.Agent,
            "component" => input.Component,
            "stack" => input.Stack,
            _ => null,
        };
    }

    /// <summary>
    /// Expands the rule's fingerprint parts: <c>{{ name }}</c> variables are replaced (<c>{{ default }}</c> by
    /// <paramref name="defaultFingerprint"/>, <c>{{ message }}</c> by the normalized message, a missing field by an
    /// empty string); other text is literal.
    /// </summary>
    public static string[] Expand(FingerprintRule rule, SignatureInput input, Func<string> defaultFingerprint, Func<string> normalizedMessage)
    {
        var parts = new string[rule.Fingerprint.Count];
        for (var i = 0; i < parts.Length; i++)
        {
            var part = rule.Fingerprint[i];
            parts[i] = ExpandPart(part, name => name.ToLowerInvariant() switch
            {
                DefaultVariable => defaultFingerprint(),
                "message" => normalizedMessage(),
                _ => Field(input, name) ?? "",
            });
        }
        return parts;
    }

    internal static bool UsesVariable(FingerprintRule rule, string name) =>
        rule.Fingerprint.Any(p => Variables(p).Any(v => string.Equals(v, name, StringComparison.OrdinalIgnoreCase)));

    private static IEnumerable<string> Variables(string part)
    {
        var at = 0;
        while ((at = part.IndexOf("{{", at, StringComparison.Ordinal)) >= 0)
        {
            var end = part.IndexOf("}}", at + 2, StringComparison.Ordinal);
            if (end < 0) yield break;
            yield return part[(at + 2)..end].Trim();
            at = end + 2;
        }
    }

    private static string ExpandPart(string part, Func<string, string> value)
    {
        if (!part.Contains("{{", StringComparison.Ordinal)) return part;
        var sb = new System.Text.StringBuilder();
        var at = 0;
        while (at < part.Length)
        {
            var open = part.IndexOf("{{", at, StringComparison.Ordinal);
            var close = open < 0 ? -1 : part.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (open < 0 || close < 0)
            {
                sb.Append(part, at, part.Length - at);
                break;
            }
            sb.Append(part, at, open - at);
            sb.Append(value(part[(open + 2)..close].Trim()));
            at = close + 2;
        }
        return sb.ToString();
    }
}
