using System.Globalization;
using ErrorCoordinator.Core.Breakers;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Gpu;

/// <summary>What one pass of the watch did with its findings.</summary>
public sealed record GpuWatchOutcome(IReadOnlyList<GpuFinding> Findings, IReadOnlyList<ReportResult> Reported, int Deduplicated, bool BreakerOpened);

/// <summary>
/// GPU health: probes through <see cref="IGpuProbe"/>, applies <see cref="GpuHealthRules"/>, and turns findings into error
/// events through <see cref="ErrorReportingService"/> (kind hardware: stored with retention, published on
/// <c>events:errors:hardware</c>), deduplicated by signature through the hardware log. On memory exhaustion it opens the
/// <c>gpu_tasks</c> breaker.
/// </summary>
public sealed class GpuHealthService(
    IGpuProbe probe,
    IHardwareLog log,
    ErrorReportingService errors,
    BreakerService breakers,
    IOptions<GpuOptions> options,
    TimeProvider time,
    ILogger<GpuHealthService> logger)
{
    private GpuOptions Options => options.Value;

    /// <summary>Reads every GPU (or one) and applies the rules. Reports nothing: this is what probe_gpu answers.</summary>
    public async Task<GpuHealthReport> ProbeAsync(int? index = null, CancellationToken cancellationToken = default)
    {
        if (index is < 0) throw new ValidationException("index", $"'index' must be 0 or more (a GPU index as nvidia-smi lists it); got {index}.");
        var now = time.GetUtcNow();
        if (!Options.Enabled) return new GpuHealthReport(false, "GPU probing is disabled (ErrorCoordinator:Gpu:Enabled=false).", null, 0, [], now);
        var result = await probe.ProbeAsync(index, cancellationToken).ConfigureAwait(false);
        var devices = result.Gpus.Select(g => new GpuDeviceReport(g, GpuHealthRules.Evaluate(g, Options.Thresholds))).ToArray();
        return new GpuHealthReport(result.Available, result.Reason, result.DriverVersion, result.DeviceCount, devices, now);
    }

    /// <summary>The newest entries of the hardware log (findings the watch recorded), newest first.</summary>
    public Task<IReadOnlyList<HardwareLogEntry>> ReadLogAsync(int limit = Defaults.DefaultPageSize, CancellationToken cancellationToken = default)
    {
        if (limit is < 1 or > Defaults.MaxPageSize)
            throw new ValidationException("limit", $"'limit' must be between 1 and {Defaults.MaxPageSize}; got {limit}.");
        return log.ReadAsync(limit, cancellationToken);
    }

    /// <summary>One pass of the watch: probe, evaluate, report what is new. Null when GPUs are unavailable.</summary>
    public async Task<(GpuHealthReport Report, GpuWatchOutcome? Outcome)> WatchOnceAsync(CancellationToken cancellationToken = default)
    {
        var report = await ProbeAsync(null, cancellationToken).ConfigureAwait(false);
        if (!report.Available) return (report, null);
        return (report, await HandleAsync(report.Gpus.SelectMany(g => g.Findings).ToArray(), cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Reports the finding for one event (XID, ECC, lost), or nothing when the rules ignore it.</summary>
    public Task<GpuWatchOutcome> HandleEventAsync(GpuEvent e, CancellationToken cancellationToken = default) =>
        GpuHealthRules.Evaluate(e, Options.Thresholds) is { } finding
            ? HandleAsync([finding], cancellationToken)
            : Task.FromResult(new GpuWatchOutcome([], [], 0, false));

    /// <summary>
    /// Reports each finding not reported within the dedup window (info findings are only logged), and opens the breaker
    /// while memory is exhausted. A finding whose report fails is forgotten so the next pass tries it again.
    /// </summary>
    public async Task<GpuWatchOutcome> HandleAsync(IReadOnlyList<GpuFinding> findings, CancellationToken cancellationToken = default)
    {
        var o = Options;
        var reported = new List<ReportResult>();
        var deduplicated = 0;
        var breakerOpened = false;
        foreach (var f in findings)
        {
            var now = time.GetUtcNow();
            if (f.Rule == GpuHealthRules.Oom)
            {
                try
                {
                    breakerOpened |= await OpenBreakerAsync(f, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The finding is still reported below; the next pass tries the breaker again.
                    Log.BreakerFailed(logger, o.BreakerComponent, ex);
                }
            }
            if (f.Severity == Severity.Info) continue;
            // A GPU is named by its UUID fleet-wide; without one, its index is only unique on this host.
            var signature = f.GpuUuid is null ? AgentName + ":" + f.Signature : f.Signature;
            var entry = new HardwareLogEntry(f.Rule, f.Severity.ToWire(), f.GpuIndex, f.GpuUuid, f.Message, signature, f.Figures, now);
            if (!await log.TryAppendAsync(entry, o.DedupWindow, o.LogMaxEntries, o.LogRetention, cancellationToken).ConfigureAwait(false))
            {
                deduplicated++;
                Log.FindingDeduplicated(logger, signature);
                continue;
            }
            try
            {
                reported.Add(await errors.ReportAsync(ToReport(f), cancellationToken).ConfigureAwait(false));
                Log.FindingReported(logger, signature, f.Severity.ToWire(), f.Message);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.FindingFailed(logger, signature, ex);
                await log.ForgetAsync(signature, CancellationToken.None).ConfigureAwait(false);
            }
        }
        return new GpuWatchOutcome(findings, reported, deduplicated, breakerOpened);
    }

    private async Task<bool> OpenBreakerAsync(GpuFinding f, CancellationToken cancellationToken)
    {
        var o = Options;
        var current = await breakers.GetAsync(o.BreakerComponent, cancellationToken).ConfigureAwait(false);
        if (current.State is BreakerState.Open or BreakerState.Isolated) return false;
        await breakers.OpenAsync(o.BreakerComponent, f.Message, o.BreakerDuration, AgentName, cancellationToken).ConfigureAwait(false);
        Log.BreakerOpened(logger, o.BreakerComponent, o.BreakerDuration.TotalMinutes, f.Message);
        return true;
    }

    private string AgentName => string.IsNullOrWhiteSpace(Options.Agent) ? "gpu-watch@" + Environment.MachineName : Options.Agent;

    private FailureReport ToReport(GpuFinding f)
    {
        var tags = new Dictionary<string, string>(f.Figures, StringComparer.Ordinal)
        {
            ["gpu_index"] = f.GpuIndex.ToString(CultureInfo.InvariantCulture),
            ["rule"] = f.Rule,
            ["recommended_action"] = f.RecommendedAction.Length <= 256 ? f.RecommendedAction : f.RecommendedAction[..256],
        };
        if (f.GpuUuid is not null) tags["gpu_uuid"] = f.GpuUuid;
        return new FailureReport
        {
            Agent = AgentName,
            ErrorType = f.Rule,
            Message = f.Message,
            Component = f.GpuUuid ?? "gpu" + f.GpuIndex.ToString(CultureInfo.InvariantCulture),
            Severity = f.Severity.ToWire(),
            Category = f.Category.ToWire(),
            Code = f.Detail,
            Tags = tags,
        };
    }
}
