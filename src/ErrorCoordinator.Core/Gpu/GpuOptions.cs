using System.ComponentModel.DataAnnotations;

namespace ErrorCoordinator.Core.Gpu;

/// <summary>The health rule thresholds. Bound from <c>ErrorCoordinator:Gpu:Thresholds</c>.</summary>
public sealed class GpuThresholds
{
    /// <summary>Memory used / total at or above which a warning is raised.</summary>
    [Range(0.01, 1.0)] public double MemoryWarningRatio { get; set; } = 0.90;
    /// <summary>Memory used / total at or above which a critical gpu_oom finding is raised (and gpu_tasks opened).</summary>
    [Range(0.01, 1.0)] public double MemoryCriticalRatio { get; set; } = 0.95;
    /// <summary>A warning when the temperature is within this many °C of the slowdown threshold.</summary>
    [Range(0, 50)] public int TemperatureWarningMarginC { get; set; } = 10;
    /// <summary>With no slowdown threshold from the driver: a warning at or above this temperature.</summary>
    [Range(30, 150)] public int FallbackTemperatureWarningC { get; set; } = 85;
    /// <summary>With no slowdown threshold from the driver: critical at or above this temperature.</summary>
    [Range(30, 150)] public int FallbackTemperatureCriticalC { get; set; } = 90;
    /// <summary>Clock event reason bits that are critical (hw_slowdown, sw/hw thermal slowdown, hw power brake).</summary>
    public ulong CriticalThrottleMask { get; set; } = ClockEventReasons.HwSlowdown | ClockEventReasons.SwThermalSlowdown
                                                    | ClockEventReasons.HwThermalSlowdown | ClockEventReasons.HwPowerBrakeSlowdown;
    /// <summary>Clock event reason bits reported as info only (the software power cap).</summary>
    public ulong InfoThrottleMask { get; set; } = ClockEventReasons.SwPowerCap;
    /// <summary>XIDs caused by applications, not hardware, ignored as the Kubernetes device plugin does: 13, 31, 43, 45, 68, 109.</summary>
    public static readonly IReadOnlyList<ulong> DefaultIgnoredXids = [13, 31, 43, 45, 68, 109];
    /// <summary>XIDs DCGM treats as GPU failures: 48, 64, 74, 79, 95, 119, 120, 140.</summary>
    public static readonly IReadOnlyList<ulong> DefaultCriticalXids = [48, 64, 74, 79, 95, 119, 120, 140];

    /// <summary>XIDs to ignore; when configured the list replaces <see cref="DefaultIgnoredXids"/>.</summary>
    public ulong[]? IgnoredXids { get; set; }
    /// <summary>XIDs that are critical; any other XID not ignored is a warning. When configured it replaces <see cref="DefaultCriticalXids"/>.</summary>
    public ulong[]? CriticalXids { get; set; }

    public IReadOnlyList<ulong> EffectiveIgnoredXids => IgnoredXids ?? DefaultIgnoredXids;
    public IReadOnlyList<ulong> EffectiveCriticalXids => CriticalXids ?? DefaultCriticalXids;
}

/// <summary>GPU probe and background watch. Bound from <c>ErrorCoordinator:Gpu</c>.</summary>
public sealed class GpuOptions
{
    public const string Section = "ErrorCoordinator:Gpu";

    /// <summary>Whether the server probes GPUs at all (probe_gpu answers unavailable when false).</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>Whether the background watch runs (it stops by itself when no GPU is available).</summary>
    public bool Watch { get; set; } = true;
    /// <summary>Time between two probes of the background watch.</summary>
    public TimeSpan WatchInterval { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>The same finding (rule, GPU, detail) is reported again only after this long.</summary>
    public TimeSpan DedupWindow { get; set; } = TimeSpan.FromHours(1);
    /// <summary>The hardware log lives this long past its last entry (7 days, as the original design).</summary>
    public TimeSpan LogRetention { get; set; } = TimeSpan.FromDays(7);
    /// <summary>Entries kept in the hardware log.</summary>
    [Range(10, 1_000_000)] public int LogMaxEntries { get; set; } = 10_000;
    /// <summary>The breaker opened on GPU memory exhaustion.</summary>
    [Required, MinLength(1)] public string BreakerComponent { get; set; } = "gpu_tasks";
    /// <summary>How long the breaker stays open on memory exhaustion (5 minutes, as the original design).</summary>
    public TimeSpan BreakerDuration { get; set; } = TimeSpan.FromMinutes(5);
    /// <summary>The agent name the watch reports as; default gpu-watch@&lt;host&gt;.</summary>
    public string? Agent { get; set; }
    [Required] public GpuThresholds Thresholds { get; set; } = new();

    /// <summary>The failures of the cross-field rules, empty when valid.</summary>
    public IEnumerable<string> Validate()
    {
        // Data annotations do not recurse: check the thresholds' ranges here.
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(Thresholds, new ValidationContext(Thresholds), results, validateAllProperties: true))
            foreach (var r in results) yield return $"ErrorCoordinator:Gpu:Thresholds: {r.ErrorMessage}";
        if (WatchInterval < TimeSpan.FromSeconds(1) || WatchInterval > TimeSpan.FromHours(1))
            yield return $"ErrorCoordinator:Gpu:WatchInterval must be between 1 second and 1 hour; got {WatchInterval}.";
        if (DedupWindow < TimeSpan.FromSeconds(1) || DedupWindow > TimeSpan.FromDays(7))
            yield return $"ErrorCoordinator:Gpu:DedupWindow must be between 1 second and 7 days; got {DedupWindow}.";
        if (LogRetention < TimeSpan.FromMinutes(1) || LogRetention > TimeSpan.FromDays(365))
            yield return $"ErrorCoordinator:Gpu:LogRetention must be between 1 minute and 365 days; got {LogRetention}.";
        if (BreakerDuration < TimeSpan.FromSeconds(1) || BreakerDuration > TimeSpan.FromDays(1))
            yield return $"ErrorCoordinator:Gpu:BreakerDuration must be between 1 second and 1 day; got {BreakerDuration}.";
        if (Thresholds.MemoryWarningRatio > Thresholds.MemoryCriticalRatio)
            yield return "ErrorCoordinator:Gpu:Thresholds:MemoryWarningRatio must not exceed MemoryCriticalRatio.";
        if (Thresholds.FallbackTemperatureWarningC > Thresholds.FallbackTemperatureCriticalC)
            yield return "ErrorCoordinator:Gpu:Thresholds:FallbackTemperatureWarningC must not exceed FallbackTemperatureCriticalC.";
    }
}
