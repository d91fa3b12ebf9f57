using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Errors;

/// <summary>
/// One row of the classification table. The first rule whose patterns all match wins.
/// Patterns are case-insensitive .NET regular expressions; a null pattern matches anything.
/// </summary>
public sealed class ClassificationRule
{
    public string? Name { get; set; }
    /// <summary>Matched against error_type.</summary>
    public string? ErrorType { get; set; }
    /// <summary>Matched against the (scrubbed) message.</summary>
    public string? Message { get; set; }
    /// <summary>Matched against code.</summary>
    public string? Code { get; set; }
    public Severity Severity { get; set; } = Severity.Error;
    public ErrorCategory Category { get; set; } = ErrorCategory.Application;
    public bool Recoverable { get; set; }
    /// <summary>The event stream: task_failures, training, hardware, agent_crashes. Drives the channel and retention.</summary>
    public string Kind { get; set; } = "task_failures";
    public string? Recommendation { get; set; }
}

/// <summary>The rule table. Bound from <c>ErrorCoordinator:Classification</c>; configured rules replace the defaults.</summary>
public sealed class ClassificationOptions
{
    public const string Section = "ErrorCoordinator:Classification";

    /// <summary>Rules tried in order. When configuration supplies any, they replace <see cref="DefaultRules"/>.</summary>
    public List<ClassificationRule> Rules { get; set; } = [];

    /// <summary>When true (default), configured rules are tried first and the defaults after them.</summary>
    public bool KeepDefaultRules { get; set; } = true;

    /// <summary>Applied when no rule matches.</summary>
    public ClassificationRule Fallback { get; set; } = new()
    {
        Name = "fallback",
        Severity = Severity.Error,
        Category = ErrorCategory.Application,
        Recoverable = false,
        Kind = "task_failures",
        Recommendation = "Inspect the group's samples; fix the code path, then mark the group resolved.",
    };

    /// <summary>
    /// The original design's rules (OutOfMemory/CUDA critical, Timeout/Network warnings, transient types recoverable),
    /// extended to the whole taxonomy.
    /// </summary>
    public static IReadOnlyList<ClassificationRule> DefaultRules { get; } =
    [
        new() { Name = "nan_loss", ErrorType = @"^nan|nan_?loss|non.?finite|loss.*(nan|inf)", Severity = Severity.Critical, Category = ErrorCategory.Data, Recoverable = false, Kind = "training",
            Recommendation = "Stop the run and check the data batch and model architecture; resume from the last good checkpoint with a lower learning rate." },
        new() { Name = "gradient_explosion", ErrorType = @"gradient|diverg|exploding", Severity = Severity.Critical, Category = ErrorCategory.Application, Recoverable = true, Kind = "training",
            Recommendation = "Reduce the learning rate, enable gradient clipping, and resume from the last checkpoint." },
        new() { Name = "out_of_memory", ErrorType = @"out\s*of\s*memory|outofmemory|\boom\b|memoryerror", Severity = Severity.Critical, Category = ErrorCategory.ResourceExhaustion, Recoverable = false, Kind = "hardware",
            Recommendation = "Reduce batch size or model footprint, or move the task to a device with more memory before retrying." },
        new() { Name = "cuda_gpu", ErrorType = @"cuda|cudnn|nccl|gpu|^xid|xid_?error|^ecc|ecc_?error", Severity = Severity.Critical, Category = ErrorCategory.Infrastructure, Recoverable = false, Kind = "hardware",
            Recommendation = "Check GPU health (probe_gpu); drain the device and reschedule the task on a healthy GPU." },
        new() { Name = "agent_crash", ErrorType = @"agent_?crash|crash|segfault|sigsegv|sigkill|panic", Severity = Severity.Critical, Category = ErrorCategory.Infrastructure, Recoverable = true, Kind = "agent_crashes",
            Recommendation = "Restart the agent and retry its task; repeated crashes of one agent type should trip its breaker." },
        new() { Name = "timeout", ErrorType = @"timeout|timedout|deadline", Severity = Severity.Warning, Category = ErrorCategory.Timeout, Recoverable = true,
            Recommendation = "Transient: retry with exponential backoff and jitter (enqueue_retry); check the dependency's breaker first." },
        new() { Name = "network", ErrorType = @"network|connection|socket|econn|dns|unreachable|reset", Severity = Severity.Warning, Category = ErrorCategory.Integration, Recoverable = true,
            Recommendation = "Transient: retry with backoff; if many agents see it, check_breaker on the component before calling again." },
        new() { Name = "rate_limit", ErrorType = @"rate.?limit|throttl|too.?many.?requests|quota", Severity = Severity.Warning, Category = ErrorCategory.External, Recoverable = true,
            Recommendation = "Back off and retry later, honouring the provider's Retry-After; spread load across agents." },
        new() { Name = "unavailable", ErrorType = @"unavailable|bad.?gateway|gateway|upstream|http5\d\d", Severity = Severity.Error, Category = ErrorCategory.External, Recoverable = true,
            Recommendation = "The dependency is down: retry with backoff and consult its breaker; fail over if an alternative exists." },
        new() { Name = "transient", ErrorType = @"temporary|transient|retryable|tryagain", Severity = Severity.Error, Category = ErrorCategory.Application, Recoverable = true,
            Recommendation = "Transient: retry with exponential backoff and jitter (enqueue_retry)." },
        new() { Name = "permission", ErrorType = @"permission|forbidden|unauthori[sz]ed|access.?denied|auth|credential|\beacces\b|\beperm\b", Severity = Severity.Error, Category = ErrorCategory.Permission, Recoverable = false,
            Recommendation = "Not retryable: fix the credentials or grants for this agent, then rerun the task." },
        new() { Name = "resource_exhaustion", ErrorType = @"disk.?full|no.?space|enospc|resource.?exhaust|too.?many.?open|emfile", Severity = Severity.Critical, Category = ErrorCategory.ResourceExhaustion, Recoverable = false,
            Recommendation = "Free the exhausted resource (disk, file handles, memory) before retrying." },
        new() { Name = "data", ErrorType = @"validation|parse|json|serializ|schema|format|decode|encoding|invalid.?data|corrupt", Severity = Severity.Error, Category = ErrorCategory.Data, Recoverable = false,
            Recommendation = "Not retryable as is: fix or quarantine the offending input, then replay the task." },
        new() { Name = "infrastructure", ErrorType = @"disk|io.?error|ioexception|filesystem|kernel|hardware|node.?lost", Severity = Severity.Error, Category = ErrorCategory.Infrastructure, Recoverable = true,
            Recommendation = "Check the host's health; reschedule the task on another node." },
    ];
}

/// <summary>The classification of one event.</summary>
public sealed record Classification(Severity Severity, ErrorCategory Category, bool Recoverable, string Kind, string Recommendation, string Rule);

/// <summary>Maps an event to severity, category, recoverability and kind through the rule table.</summary>
public sealed class ErrorClassifier
{
    private readonly (ClassificationRule Rule, Regex? Type, Regex? Message, Regex? Code)[] _rules;
    private readonly ClassificationRule _fallback;

    public ErrorClassifier(IOptions<ClassificationOptions> options)
    {
        var o = options.Value;
        var rules = o.Rules.Count == 0 ? ClassificationOptions.DefaultRules
            : o.KeepDefaultRules ? [.. o.Rules, .. ClassificationOptions.DefaultRules] : o.Rules;
        _rules = rules.Select(r => (r, Compile(r.ErrorType), Compile(r.Message), Compile(r.Code))).ToArray();
        _fallback = o.Fallback;
    }

    public Classification Classify(string errorType, string message, string? code)
    {
        foreach (var (rule, type, msg, c) in _rules)
        {
            if (type is not null && !type.IsMatch(errorType)) continue;
            if (msg is not null && !msg.IsMatch(message)) continue;
            if (c is not null && (code is null || !c.IsMatch(code))) continue;
            return From(rule);
        }
        return From(_fallback);
    }

    private static Classification From(ClassificationRule r) =>
        new(r.Severity, r.Category, r.Recoverable, r.Kind, r.Recommendation ?? DefaultRecommendation(r.Category, r.Recoverable), r.Name ?? "custom");

    public static string DefaultRecommendation(ErrorCategory category, bool recoverable) => recoverable
        ? "Transient: retry with exponential backoff and jitter (enqueue_retry)."
        : $"Not retryable ({category.ToWire()}): fix the cause, then mark the group resolved.";

    /// <summary>
    /// Linear-time (non-backtracking) matching when the pattern allows it; patterns that need backtracking
    /// constructs (lookarounds, backreferences) fall back to the backtracking engine with a generous timeout.
    /// </summary>
    private static Regex? Compile(string? pattern)
    {
        if (string.IsNullOrWhiteSpace(pattern)) return null;
        const RegexOptions options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant;
        try
        {
            return new Regex(pattern, options | RegexOptions.NonBacktracking);
        }
        catch (NotSupportedException)
        {
            return new Regex(pattern, options | RegexOptions.Compiled, TimeSpan.FromSeconds(1));
        }
    }
}
