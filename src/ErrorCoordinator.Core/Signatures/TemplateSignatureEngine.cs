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
/// Thread-safe; deterministic for the same events in the same order.
/// <para>Two ways to use it. <see cref="ComputeAsync"/> mines in this process alone (bounded by
/// <see cref="SignatureOptions.MaxTemplates"/>, least recently used evicted): the <c>group</c> CLI and the bench.
/// <see cref="Propose"/> / <see cref="Accepted"/> / <see cref="Refresh"/> keep the template state in the store
/// (<see cref="TemplateReplica"/>, a replica of the store's buckets): the report path, so that every server process
/// and every restart assigns the same group to the same template.</para>
/// </summary>
public sealed class TemplateSignatureEngine : IStoreBackedSignatureEngine
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
        _replica = new TemplateReplica(_options.SimilarityThreshold, _options.Depth, _options.MaxTemplates, _options.WordMismatchWeight, _options.MaxTemplatesPerBucket);
    }

    private readonly TemplateReplica _replica;

    /// <summary>The replica of the store's template buckets (for inspection and tests).</summary>
    public TemplateReplica Replica => _replica;

    /// <inheritdoc />
    public int MaxAttempts => SignatureDefaults.MaxAssignAttempts;

    /// <inheritdoc />
    public SignatureResult Propose(SignatureInput input) => Compute(input, shared: true);

    /// <inheritdoc />
    public void Accepted(TemplateDecision decision, IReadOnlyList<string>? evicted) => _replica.Accept(decision, evicted);

    /// <inheritdoc />
    public void Refresh(TemplateDecision decision, TemplateBucketSnapshot snapshot) => _replica.Refresh(decision.BucketKey, snapshot);

    public TemplateSignatureEngine() : this(Options.Create(new SignatureOptions()))
    {
    }

    /// <summary>The template miner (for inspection and tests).</summary>
    public DrainTemplateMiner Miner => _miner;

    public ValueTask<SignatureResult> ComputeAsync(SignatureInput input, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Compute(input));

    public SignatureResult Compute(SignatureInput input) => Compute(input, shared: false);

    private SignatureResult Compute(SignatureInput input, bool shared)
    {
        if (_rules.Count > 0 && _rules.Find(input) is { } rule)
        {
            SignatureResult? fallback = null;
            SignatureResult Fallback() => fallback ??= ComputeDefault(input, shared);
            var parts = FingerprintRules.Expand(rule, input, () => Fallback().GroupId, () => _normalizer.Normalize(input.Message));
            var template = !string.IsNullOrWhiteSpace(rule.Title) ? rule.Title! : (fallback?.Template ?? _normalizer.Normalize(input.Message));
            // A rule built on {{ default }} still mines: its assignment goes to the store with the report.
            if (parts.Length == 0) return new SignatureResult(template, Fallback().GroupId) { Decision = fallback?.Decision };
            return new SignatureResult(template, GroupIds.FromParts(["rule", .. parts])) { Decision = fallback?.Decision };
        }
        return ComputeDefault(input, shared);
    }

    private SignatureResult ComputeDefault(SignatureInput input, bool shared)
    {
        var frames = StackFingerprinter.Fingerprint(input.Stack, _options.MaxStackFrames);
        if (frames.Count > 0)
            return new SignatureResult(_normalizer.Normalize(input.Message), GroupIds.FromParts(["stack", input.ErrorType, .. frames]));

        var tokens = t_tokens ??= new List<string>(32);
        tokens.Clear();
        _normalizer.Tokenize(input.Message, tokens, _options.MaxTokens);
        if (shared)
        {
            var (decision, template) = _replica.Propose(input.ErrorType, tokens);
            return new SignatureResult(template, decision.ClusterId) { Decision = decision };
        }
        var match = _miner.Add(input.ErrorType, tokens);
        return new SignatureResult(match.Template, match.GroupId);
    }
}
