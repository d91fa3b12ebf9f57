using System.Globalization;

namespace ErrorCoordinator.Core.Training;

/// <summary>
/// The training anomaly rules, pure: this step's values and the run's previous window in, findings out.
/// <list type="bullet">
/// <item>NaN or infinite loss: <c>nan_loss_detected</c>, stop training.</item>
/// <item>Loss above the ceiling, a non-finite grad norm, or a spike of loss or grad norm: <c>gradient_explosion</c>, reduce the learning rate.</item>
/// </list>
/// A spike is a robust z-score (0.6745 (x - median) / MAD over the last N finite values) at or above the threshold and a value at
/// least <see cref="TrainingOptions.MinSpikeIncrease"/> above the median. It is one-sided: a loss falling fast early in a run sits
/// below the median and is never a spike.
/// </summary>
public static class TrainingAnomalyDetector
{
    public const string NanLoss = "nan_loss_detected";
    public const string GradientExplosion = "gradient_explosion";
    public const string StopTraining = "stop_training";
    public const string ReduceLearningRate = "reduce_learning_rate";
    public const string NanAdvice = "check data quality and model architecture";
    public const string ExplosionAdvice = "reduce the learning rate, enable gradient clipping, and resume from the last good checkpoint";

    /// <summary>MAD to standard deviation for a normal distribution (1 / 1.4826).</summary>
    private const double MadScale = 0.6745;

    public static IReadOnlyList<TrainingFinding> Detect(long step, double loss, double? gradNorm, TrainingWindow previous, TrainingOptions o)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(o);
        var findings = new List<TrainingFinding>(1);
        if (!double.IsFinite(loss))
        {
            findings.Add(new TrainingFinding(NanLoss, "loss", "non_finite", loss,
                $"Loss is {Format(loss)} at step {step}: the run has diverged numerically.", StopTraining, NanAdvice, false, null, null));
        }
        else if (loss > o.LossCeiling)
        {
            findings.Add(new TrainingFinding(GradientExplosion, "loss", "ceiling", loss,
                $"Loss {Format(loss)} at step {step} is above the ceiling {Format(o.LossCeiling)}.", ReduceLearningRate, ExplosionAdvice, true, null, null));
        }
        else if (Spike(loss, previous.Losses, o) is { } lossSpike)
        {
            findings.Add(new TrainingFinding(GradientExplosion, "loss", "spike", loss,
                $"Loss spiked to {Format(loss)} at step {step} (median of the last {previous.Losses.Count} steps {Format(lossSpike.Median)}, robust z {lossSpike.Z.ToString("0.0", CultureInfo.InvariantCulture)}).",
                ReduceLearningRate, ExplosionAdvice, true, lossSpike.Median, lossSpike.Z));
        }

        // One gradient_explosion per step: the grad norm is only looked at when the loss did not already explode.
        if (findings.Count == 0 && gradNorm is { } g)
        {
            if (!double.IsFinite(g))
                findings.Add(new TrainingFinding(GradientExplosion, "grad_norm", "non_finite", g,
                    $"Gradient norm is {Format(g)} at step {step}.", ReduceLearningRate, ExplosionAdvice, true, null, null));
            else if (Spike(g, previous.GradNorms, o) is { } gradSpike)
                findings.Add(new TrainingFinding(GradientExplosion, "grad_norm", "spike", g,
                    $"Gradient norm spiked to {Format(g)} at step {step} (median of the last {previous.GradNorms.Count} steps {Format(gradSpike.Median)}, robust z {gradSpike.Z.ToString("0.0", CultureInfo.InvariantCulture)}).",
                    ReduceLearningRate, ExplosionAdvice, true, gradSpike.Median, gradSpike.Z));
        }
        return findings;
    }

    /// <summary>The median and robust z of <paramref name="x"/> against <paramref name="window"/> when it is a spike; else null.</summary>
    public static (double Median, double Z)? Spike(double x, IReadOnlyList<double> window, TrainingOptions o)
    {
        if (window.Count < o.MinSamples) return null;
        var n = Math.Min(window.Count, o.Window);
        Span<double> values = n <= 256 ? stackalloc double[n] : new double[n];
        for (var i = 0; i < n; i++) values[i] = window[i];
        var median = Median(values);
        if (x <= median) return null;
        for (var i = 0; i < n; i++) values[i] = Math.Abs(values[i] - median);
        var mad = Median(values);
        // A flat window (MAD 0) still needs a scale: a small fraction of the median, or an absolute floor near zero.
        var scale = Math.Max(mad, Math.Max(Math.Abs(median) * 1e-3, 1e-12));
        var z = MadScale * (x - median) / scale;
        var increase = median > 0 ? (x - median) / median : double.PositiveInfinity;
        return z >= o.SpikeZScore && increase >= o.MinSpikeIncrease ? (median, z) : null;
    }

    /// <summary>The median of <paramref name="values"/> (sorted in place).</summary>
    private static double Median(Span<double> values)
    {
        values.Sort();
        var mid = values.Length / 2;
        return values.Length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }

    /// <summary>A value as the wire spells it: NaN, Infinity, -Infinity, or a round-trip number.</summary>
    public static string Format(double v) =>
        double.IsNaN(v) ? "NaN" : double.IsPositiveInfinity(v) ? "Infinity" : double.IsNegativeInfinity(v) ? "-Infinity" : v.ToString("G6", CultureInfo.InvariantCulture);
}
