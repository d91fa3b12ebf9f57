using System.Globalization;
using ErrorCoordinator.Core.Errors;

namespace ErrorCoordinator.Core.Gpu;

/// <summary>
/// The GPU health rules: a snapshot (or an event) and the thresholds in, findings out. Pure: no I/O, no clock.
/// A field that was not read (not applicable or unreadable) fires no rule.
/// </summary>
public static class GpuHealthRules
{
    public const string Oom = "gpu_oom";
    public const string MemoryHigh = "gpu_memory_high";
    public const string Thermal = "gpu_thermal";
    public const string Throttle = "gpu_throttle";
    public const string PowerCap = "gpu_power_cap";
    public const string EccUncorrected = "gpu_ecc_uncorrected";
    public const string RetiredPagesPending = "gpu_retired_pages_pending";
    public const string RowRemapFailure = "gpu_row_remap_failure";
    public const string Xid = "gpu_xid";
    public const string EccSingleBit = "gpu_ecc_single_bit";
    public const string EccDoubleBit = "gpu_ecc_double_bit";
    public const string Lost = "gpu_lost";

    private const string Drain = "Drain the GPU: stop scheduling tasks on it, reset it (nvidia-smi -r) or reboot the node, and reschedule its tasks on a healthy GPU.";

    public static IReadOnlyList<GpuFinding> Evaluate(GpuSnapshot s, GpuThresholds t)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(t);
        var findings = new List<GpuFinding>();
        var label = Label(s.Index, s.Name, s.Uuid);

        if (s.Lost)
        {
            findings.Add(Finding(s, Lost, Severity.Critical, ErrorCategory.Infrastructure, $"{label} is lost (GPU_IS_LOST): it no longer answers the driver.", Drain));
            return findings;
        }

        if (s.MemoryUsedBytes is { } used && s.MemoryTotalBytes is { } total && total > 0)
        {
            var ratio = (double)used / total;
            var figures = Figures(("memory_used_bytes", used.ToString(CultureInfo.InvariantCulture)), ("memory_total_bytes", total.ToString(CultureInfo.InvariantCulture)),
                ("memory_used_ratio", ratio.ToString("0.000", CultureInfo.InvariantCulture)));
            var text = $"{label} memory {(ratio * 100).ToString("0", CultureInfo.InvariantCulture)}% used ({Gib(used)} of {Gib(total)} GiB)";
            if (ratio >= t.MemoryCriticalRatio)
                findings.Add(Finding(s, Oom, Severity.Critical, ErrorCategory.ResourceExhaustion, $"{text}: out-of-memory risk.",
                    "Do not start GPU tasks on this device (gpu_tasks breaker is open); reduce batch size, enable gradient checkpointing or free memory held by idle processes.", figures));
            else if (ratio >= t.MemoryWarningRatio)
                findings.Add(Finding(s, MemoryHigh, Severity.Warning, ErrorCategory.ResourceExhaustion, $"{text}.",
                    "Memory is nearly exhausted: avoid adding tasks to this GPU; reduce batch size if the task grows.", figures));
        }

        if (ThermalFinding(s, t, label) is { } thermal) findings.Add(thermal);

        if (s.ClockEventReasons is { } reasons)
        {
            var critical = reasons & t.CriticalThrottleMask;
            if (critical != 0)
                findings.Add(Finding(s, Throttle, Severity.Critical, ErrorCategory.Infrastructure,
                    $"{label} is throttling its clocks: {string.Join(", ", ClockEventReasons.Describe(critical))}.",
                    "The GPU is slowed by hardware (heat, power brake or slowdown signal): check cooling and power delivery; expect slower steps until it clears.",
                    Figures(("clock_event_reasons", $"0x{reasons:x}"))));
            else if ((reasons & t.InfoThrottleMask) != 0)
                findings.Add(Finding(s, PowerCap, Severity.Info, ErrorCategory.Infrastructure,
                    $"{label} is held at its software power cap ({string.Join(", ", ClockEventReasons.Describe(reasons & t.InfoThrottleMask))}).",
                    "Normal under full load; raise the power limit only if the workload needs it.",
                    Figures(("clock_event_reasons", $"0x{reasons:x}"))));
        }

        if (s.EccUncorrectedVolatile is > 0 and var uncorrected)
            findings.Add(Finding(s, EccUncorrected, Severity.Critical, ErrorCategory.Infrastructure,
                $"{label} has {uncorrected} uncorrected ECC errors since the last driver load.", Drain,
                Figures(("ecc_uncorrected_volatile", uncorrected.ToString(CultureInfo.InvariantCulture)))));

        if (s.RetiredPagesPending == true)
            findings.Add(Finding(s, RetiredPagesPending, Severity.Critical, ErrorCategory.Infrastructure,
                $"{label} has retired memory pages pending: they take effect after a GPU reset.", Drain));

        if (s.RowRemapFailure == true)
            findings.Add(Finding(s, RowRemapFailure, Severity.Critical, ErrorCategory.Infrastructure,
                $"{label} failed to remap a memory row: the GPU needs service.", Drain,
                Figures(("remapped_rows_uncorrectable", (s.RemappedRowsUncorrectable ?? 0).ToString(CultureInfo.InvariantCulture)))));

        return findings;
    }

    private static GpuFinding? ThermalFinding(GpuSnapshot s, GpuThresholds t, string label)
    {
        var throttling = s.ClockEventReasons is { } r && (r & ClockEventReasons.Thermal) != 0;
        if (s.TemperatureC is not { } temp)
        {
            return throttling
                ? Finding(s, Thermal, Severity.Critical, ErrorCategory.Infrastructure, $"{label} is throttling for heat (thermal slowdown).", CoolDown)
                : null;
        }
        Severity? severity;
        string threshold;
        if (s.SlowdownTemperatureC is { } slowdown)
        {
            severity = temp >= slowdown ? Severity.Critical : temp + t.TemperatureWarningMarginC >= slowdown ? Severity.Warning : null;
            threshold = $"slowdown {slowdown} °C" + (s.ShutdownTemperatureC is { } shutdown ? $", shutdown {shutdown} °C" : "");
        }
        else
        {
            severity = temp >= t.FallbackTemperatureCriticalC ? Severity.Critical : temp >= t.FallbackTemperatureWarningC ? Severity.Warning : null;
            threshold = $"no driver threshold; warning {t.FallbackTemperatureWarningC} °C, critical {t.FallbackTemperatureCriticalC} °C";
        }
        if (throttling) severity = Severity.Critical;
        if (severity is null) return null;
        var text = $"{label} temperature {temp} °C ({threshold})" + (throttling ? ", thermal throttling active." : ".");
        return Finding(s, Thermal, severity.Value, ErrorCategory.Infrastructure, text, CoolDown,
            Figures(("temperature_c", temp.ToString(CultureInfo.InvariantCulture)), ("slowdown_c", s.SlowdownTemperatureC?.ToString(CultureInfo.InvariantCulture) ?? "")));
    }

    private const string CoolDown = "Check the node's cooling and airflow; move long tasks off this GPU until the temperature falls below the slowdown threshold.";

    /// <summary>The finding for an event, or null when the rules ignore it (application XIDs).</summary>
    public static GpuFinding? Evaluate(GpuEvent e, GpuThresholds t)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(t);
        var label = Label(e.GpuIndex, null, e.GpuUuid);
        switch (e.Type)
        {
            case GpuEventType.Xid:
                if (t.EffectiveIgnoredXids.Contains(e.Data)) return null;
                var critical = t.EffectiveCriticalXids.Contains(e.Data);
                return new GpuFinding
                {
                    Rule = Xid, Severity = critical ? Severity.Critical : Severity.Warning, Category = ErrorCategory.Infrastructure,
                    GpuIndex = e.GpuIndex, GpuUuid = e.GpuUuid, Detail = e.Data.ToString(CultureInfo.InvariantCulture),
                    Message = $"{label} raised XID {e.Data}" + (critical ? " (a GPU failure)." : "."),
                    RecommendedAction = critical ? Drain : "Look up the XID in the NVIDIA XID catalogue; drain the GPU if it repeats.",
                    Figures = Figures(("xid", e.Data.ToString(CultureInfo.InvariantCulture))),
                };
            case GpuEventType.DoubleBitEcc:
                return new GpuFinding
                {
                    Rule = EccDoubleBit, Severity = Severity.Critical, Category = ErrorCategory.Infrastructure, GpuIndex = e.GpuIndex, GpuUuid = e.GpuUuid,
                    Message = $"{label} reported a double-bit (uncorrectable) ECC error.", RecommendedAction = Drain,
                };
            case GpuEventType.SingleBitEcc:
                return new GpuFinding
                {
                    Rule = EccSingleBit, Severity = Severity.Warning, Category = ErrorCategory.Infrastructure, GpuIndex = e.GpuIndex, GpuUuid = e.GpuUuid,
                    Message = $"{label} reported a single-bit (corrected) ECC error.",
                    RecommendedAction = "Corrected by the hardware; watch the rate and drain the GPU if corrected errors keep growing.",
                };
            default:
                return new GpuFinding
                {
                    Rule = Lost, Severity = Severity.Critical, Category = ErrorCategory.Infrastructure, GpuIndex = e.GpuIndex, GpuUuid = e.GpuUuid,
                    Message = $"{label} is lost (GPU_IS_LOST): it no longer answers the driver.", RecommendedAction = Drain,
                };
        }
    }

    private static GpuFinding Finding(GpuSnapshot s, string rule, Severity severity, ErrorCategory category, string message, string action,
        IReadOnlyDictionary<string, string>? figures = null) => new()
    {
        Rule = rule, Severity = severity, Category = category, GpuIndex = s.Index, GpuUuid = s.Uuid, Message = message, RecommendedAction = action,
        Figures = figures ?? new Dictionary<string, string>(),
    };

    private static Dictionary<string, string> Figures(params (string Key, string Value)[] pairs)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in pairs) if (v.Length > 0) d[k] = v;
        return d;
    }

    private static string Label(int index, string? name, string? uuid) =>
        $"GPU {index}" + (name is null && uuid is null ? "" : $" ({string.Join(", ", new[] { name, uuid }.Where(x => x is not null))})");

    private static string Gib(ulong bytes) => (bytes / 1073741824.0).ToString("0.0", CultureInfo.InvariantCulture);
}
