using System.ComponentModel.DataAnnotations;

namespace ErrorCoordinator.Core.Signatures;

/// <summary>Defaults of the template signature engine, in one place.</summary>
public static class SignatureDefaults
{
    /// <summary>Drain's similarity threshold: the share of token positions that must agree to join a template.</summary>
    public const double SimilarityThreshold = 0.65;

    /// <summary>How many differing tokens two differing plain words (no digits) count as in the similarity.</summary>
    public const double WordMismatchWeight = 3;

    /// <summary>Drain's tree depth: the token-count layer, <c>Depth - 2</c> layers of leading tokens, then the leaf.</summary>
    public const int Depth = 4;

    /// <summary>
    /// Children per prefix-tree node before new tokens share the <c>&lt;*&gt;</c> branch (the in-process miner only:
    /// the store-backed path routes without a child cap, as a cap's outcome depends on one process's history).
    /// </summary>
    public const int MaxChildren = 100;

    /// <summary>Templates kept in memory; the least recently used one is evicted beyond this.</summary>
    public const int MaxTemplates = 10_000;

    /// <summary>Templates one bucket (error type, token count, leading tokens) keeps in the store; its least recently used one is evicted beyond this.</summary>
    public const int MaxTemplatesPerBucket = 200;

    /// <summary>Tries of one report against the store's template state before giving up (each conflict refreshes the replica).</summary>
    public const int MaxAssignAttempts = 16;

    /// <summary>In-app frames in a stack fingerprint.</summary>
    public const int MaxStackFrames = 5;

    /// <summary>Tokens of a message the miner looks at; the rest are cut (very long messages are rare and costly).</summary>
    public const int MaxTokens = 256;
}

/// <summary>
/// The template signature engine's settings. Bound from <c>ErrorCoordinator:Signatures</c>. One configuration
/// serves every source of messages: nothing here is tuned per log format.
/// </summary>
public sealed class SignatureOptions
{
    public const string Section = "ErrorCoordinator:Signatures";

    [Range(0.01, 1.0)]
    public double SimilarityThreshold { get; set; } = SignatureDefaults.SimilarityThreshold;

    [Range(1.0, 100.0)]
    public double WordMismatchWeight { get; set; } = SignatureDefaults.WordMismatchWeight;

    [Range(3, 16)]
    public int Depth { get; set; } = SignatureDefaults.Depth;

    [Range(2, 10_000)]
    public int MaxChildren { get; set; } = SignatureDefaults.MaxChildren;

    [Range(1, 10_000_000)]
    public int MaxTemplates { get; set; } = SignatureDefaults.MaxTemplates;

    [Range(1, 100_000)]
    public int MaxTemplatesPerBucket { get; set; } = SignatureDefaults.MaxTemplatesPerBucket;

    /// <summary>
    /// The server's signature engine: <c>template</c> (template mining with the template state in the store, so
    /// every process and restart assigns the same groups; the default) or <c>seed</c> (the original design's
    /// digits-and-UUIDs signature).
    /// </summary>
    [RegularExpression("^(template|seed)$", ErrorMessage = "Signatures:Engine must be 'template' or 'seed'.")]
    public string Engine { get; set; } = "template";

    [Range(1, 100)]
    public int MaxStackFrames { get; set; } = SignatureDefaults.MaxStackFrames;

    [Range(8, 100_000)]
    public int MaxTokens { get; set; } = SignatureDefaults.MaxTokens;

    /// <summary>Custom fingerprint rules, tried in order; the first that matches sets the fingerprint.</summary>
    public List<FingerprintRule> Rules { get; set; } = [];
}

/// <summary>
/// A custom fingerprint rule in the spirit of Sentry's <c>matcher:glob -&gt; fingerprint</c>. Every matcher must
/// match (globs: <c>*</c>, <c>?</c>, <c>[abc]</c>, case-insensitive). Matcher keys: <c>error_type</c>,
/// <c>message</c>, <c>agent</c>, <c>component</c>, <c>stack</c> and <c>tags.&lt;key&gt;</c>.
/// </summary>
/// <example>
/// <code>
/// "Rules": [ { "Match": { "error_type": "*Timeout*", "tags.region": "eu-*" },
///              "Fingerprint": [ "{{ error_type }}", "eu-timeouts" ], "Title": "Timeouts in the EU" } ]
/// </code>
/// </example>
public sealed class FingerprintRule
{
    /// <summary>Matcher name to glob. A matcher on an absent field (no component, no such tag) does not match, not even <c>*</c>.</summary>
    public Dictionary<string, string> Match { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The fingerprint parts. Variables: <c>{{ default }}</c> (the fingerprint the engine would compute without
    /// rules), <c>{{ error_type }}</c>, <c>{{ message }}</c> (the normalized message), <c>{{ agent }}</c>,
    /// <c>{{ component }}</c>, <c>{{ tags.&lt;key&gt; }}</c>. Anything else is literal text.
    /// </summary>
    public List<string> Fingerprint { get; set; } = [];

    /// <summary>Optional title: replaces the template shown as the group's signature.</summary>
    public string? Title { get; set; }
}
