using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Signatures;

/// <summary>
/// The template signature engine. For each event, in order:
/// <list type="number">
/// <item>Custom fingerprint rules (<see cref="SignatureOptions.Rules"/>): the first matching rule sets the
/// fingerprint (and optionally the title).</item>
/// <item>A stack, when given and parseable: the error type plus the top in-app frames (module and function, no
/// line numbers). Messages that differ under the same stack group together, as in Sentry.</item>
/// <item>Otherwise the message: normalized by <see cref="MessageNormalizer"/>, then mined by
/// <see cref="DrainTemplateMiner"/> within the error type; the template (with <c>&lt;*&gt;</c>) is the signature and
/// the group id is fixed when the template is first created.</item>
/// </list>
/// Thread-safe; deterministic for the same events in the same order. The mined templates live in this process
/// (bounded by <see cref="SignatureOptions.MaxTemplates"/>, least recently used evicted).
/// </summary>
public sealed class TemplateSignatureEngine : ISignatureEngine
{
    private readonly SignatureOptions _options;
    private readonly FingerprintRules _rules;
    private readonly DrainTemplateMiner _miner;
    private readonly MessageNormalizer _normalizer = MessageNormalizer.Default;

    [ThreadStatic] private static List<string>? t_tokens;

    public TemplateSignatureEngine(IOptions<SignatureOptions> options)
    {
        _options = options.Value;
        _rules = new FingerprintRules(_options.Rules);
        _miner = new DrainTemplateMiner(_options.SimilarityThreshold, _options.Depth, _options.MaxChildren, _options.MaxTemplates, _options.WordMismatchWeight);
    }

    public TemplateSignatureEngine() : this(Options.Create(new SignatureOptions()))
    {
    }

    /// <summary>The template miner (for inspection and tests).</summary>
    public DrainTemplateMiner Miner => _miner;

    public ValueTask<SignatureResult> ComputeAsync(SignatureInput input, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Compute(input));

    public SignatureResult Compute(SignatureInput input)
    {
        if (_rules.Count > 0 && _rules.Find(input) is { } rule)
        {
            SignatureResult? fallback = null;
            SignatureResult Fallback() => fallback ??= ComputeDefault(input);
            var parts = FingerprintRules.Expand(rule, input, () => Fallback().GroupId, () => _normalizer.Normalize(input.Message));
            var template = !string.IsNullOrWhiteSpace(rule.Title) ? rule.Title! : (fallback?.Template ?? _normalizer.Normalize(input.Message));
            if (parts.Length == 0) return new SignatureResult(template, Fallback().GroupId);
            return new SignatureResult(template, GroupIds.FromParts(["rule", .. parts]));
        }
        return ComputeDefault(input);
    }

    private SignatureResult ComputeDefault(SignatureInput input)
    {
        var frames = StackFingerprinter.Fingerprint(input.Stack, _options.MaxStackFrames);
        if (frames.Count > 0)
            return new SignatureResult(_normalizer.Normalize(input.Message), GroupIds.FromParts(["stack", input.ErrorType, .. frames]));

        var tokens = t_tokens ??= new List<string>(32);
        tokens.Clear();
        _normalizer.Tokenize(input.Message, tokens, _options.MaxTokens);
        var match = _miner.Add(input.ErrorType, tokens);
        return new SignatureResult(match.Template, match.GroupId);
    }
}
