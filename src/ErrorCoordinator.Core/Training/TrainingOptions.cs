using System.ComponentModel.DataAnnotations;

namespace ErrorCoordinator.Core.Training;

/// <summary>Training-run anomaly detection. Bound from <c>ErrorCoordinator:Training</c>.</summary>
public sealed class TrainingOptions
{
    public const string Section = "ErrorCoordinator:Training";

    /// <summary>A finite loss above this is a gradient explosion (100, as the original design).</summary>
    [Range(double.Epsilon, double.MaxValue)] public double LossCeiling { get; set; } = 100;
    /// <summary>How many previous steps of a run the spike rule looks at.</summary>
    [Range(5, 1000)] public int Window { get; set; } = 50;
    /// <summary>Previous steps needed before the spike rule applies (a run's first steps are never a spike).</summary>
    [Range(3, 1000)] public int MinSamples { get; set; } = 10;
    /// <summary>Robust z-score (0.6745 (x - median) / MAD over the window) at or above which a value is a spike.</summary>
    [Range(1.0, 1000.0)] public double SpikeZScore { get; set; } = 6.0;
    /// <summary>A spike must also be at least this much above the window's median (0.5 = 50 % above), so tiny noise on a flat run is not one.</summary>
    [Range(0.0, 1000.0)] public double MinSpikeIncrease { get; set; } = 0.5;
    /// <summary>A run's rolling window is forgotten after this long without a step.</summary>
    public TimeSpan RunIdleRetention { get; set; } = TimeSpan.FromDays(7);
    /// <summary>A project's training log lives this long past its last anomaly (30 days, as the original design).</summary>
    public TimeSpan LogRetention { get; set; } = TimeSpan.FromDays(30);
    /// <summary>Anomalies kept in each project's training log.</summary>
    [Range(10, 1_000_000)] public int LogMaxEntries { get; set; } = 1000;
    /// <summary>Runs the embedded store keeps windows for (least recently stepped are dropped first).</summary>
    [Range(10, 10_000_000)] public int MaxRuns { get; set; } = 10_000;

    public IEnumerable<string> Validate()
    {
        if (MinSamples > Window) yield return $"ErrorCoordinator:Training:MinSamples ({MinSamples}) must not exceed Window ({Window}).";
        if (RunIdleRetention < TimeSpan.FromMinutes(1)) yield return "ErrorCoordinator:Training:RunIdleRetention must be at least 1 minute.";
        if (LogRetention < TimeSpan.FromMinutes(1)) yield return "ErrorCoordinator:Training:LogRetention must be at least 1 minute.";
    }
}
