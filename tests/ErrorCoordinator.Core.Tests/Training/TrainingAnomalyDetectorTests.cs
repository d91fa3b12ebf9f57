using ErrorCoordinator.Core.Training;

namespace ErrorCoordinator.Core.Tests.Training;

/// <summary>The detection rules on fixed sequences, with the rolling window kept as the stores keep it (newest first, finite values only).</summary>
public sealed class TrainingAnomalyDetectorTests
{
    private static readonly TrainingOptions Options = new();

    /// <summary>Feeds the sequence step by step; returns (step, findings) for every step that raised one.</summary>
    private static List<(int Step, IReadOnlyList<TrainingFinding> Findings)> Run(IEnumerable<double> losses, IEnumerable<double?>? gradNorms = null, TrainingOptions? o = null)
    {
        o ??= Options;
        var lossWindow = new List<double>();
        var gradWindow = new List<double>();
        var hits = new List<(int, IReadOnlyList<TrainingFinding>)>();
        var grads = (gradNorms ?? Enumerable.Repeat<double?>(null, int.MaxValue)).GetEnumerator();
        var step = 0;
        foreach (var loss in losses)
        {
            grads.MoveNext();
            var g = grads.Current;
            var findings = TrainingAnomalyDetector.Detect(step, loss, g, new TrainingWindow(lossWindow.ToArray(), gradWindow.ToArray()), o);
            if (findings.Count > 0) hits.Add((step, findings));
            if (double.IsFinite(loss)) { lossWindow.Insert(0, loss); if (lossWindow.Count > o.Window) lossWindow.RemoveAt(lossWindow.Count - 1); }
            if (g is { } gv && double.IsFinite(gv)) { gradWindow.Insert(0, gv); if (gradWindow.Count > o.Window) gradWindow.RemoveAt(gradWindow.Count - 1); }
            step++;
        }
        return hits;
    }

    /// <summary>A typical run: a fast early fall from 10.4 toward 1.8 with deterministic step-to-step noise.</summary>
    private static double[] EarlyDecay(int steps) =>
        Enumerable.Range(0, steps).Select(i => 1.8 + 8.6 * Math.Exp(-i / 25.0) + 0.03 * Math.Sin(i * 1.7)).ToArray();

    private static double[] Plateau(int steps, double level = 2.0) =>
        Enumerable.Range(0, steps).Select(i => level + 0.02 * Math.Sin(i * 2.3)).ToArray();

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "Infinity")]
    [InlineData(double.NegativeInfinity, "-Infinity")]
    public void Non_finite_loss_is_nan_loss_detected_stop_training(double loss, string shown)
    {
        var hits = Run([.. Plateau(20), loss]);
        var (step, findings) = Assert.Single(hits);
        Assert.Equal(20, step);
        var f = Assert.Single(findings);
        Assert.Equal((TrainingAnomalyDetector.NanLoss, "loss", "non_finite", "stop_training", false), (f.Type, f.Metric, f.Reason, f.RecommendedAction, f.Recoverable));
        Assert.Equal("check data quality and model architecture", f.Advice);
        Assert.Equal($"Loss is {shown} at step 20: the run has diverged numerically.", f.Message);
    }

    [Fact]
    public void Nan_on_the_very_first_step_is_detected()
    {
        var f = Assert.Single(TrainingAnomalyDetector.Detect(0, double.NaN, null, TrainingWindow.Empty, Options));
        Assert.Equal(TrainingAnomalyDetector.NanLoss, f.Type);
    }

    [Fact]
    public void Loss_above_the_ceiling_is_gradient_explosion_even_on_the_first_step()
    {
        Assert.Empty(TrainingAnomalyDetector.Detect(0, 100, null, TrainingWindow.Empty, Options));
        var f = Assert.Single(TrainingAnomalyDetector.Detect(0, 100.5, null, TrainingWindow.Empty, Options));
        Assert.Equal((TrainingAnomalyDetector.GradientExplosion, "ceiling", "reduce_learning_rate", true), (f.Type, f.Reason, f.RecommendedAction, f.Recoverable));
        var custom = new TrainingOptions { LossCeiling = 20 };
        Assert.Equal("ceiling", Assert.Single(TrainingAnomalyDetector.Detect(0, 20.1, null, TrainingWindow.Empty, custom)).Reason);
    }

    [Fact]
    public void A_normal_early_fall_raises_nothing()
    {
        // The first step's loss is 10.4, several times the later median: a falling loss is never a spike.
        Assert.Empty(Run(EarlyDecay(400)));
    }

    [Fact]
    public void A_start_from_a_high_loss_raises_nothing()
    {
        // 90 -> 2 in 300 steps, under the ceiling throughout.
        Assert.Empty(Run(Enumerable.Range(0, 300).Select(i => 2 + 88 * Math.Exp(-i / 10.0))));
    }

    [Fact]
    public void A_slow_rise_is_not_a_spike()
    {
        // Loss creeping up 0.5 % a step (an over-fit or a warm-up): under 50 % above the window's median.
        Assert.Empty(Run(Enumerable.Range(0, 200).Select(i => 2.0 * Math.Pow(1.005, i))));
    }

    [Fact]
    public void A_spike_after_the_fall_is_gradient_explosion_with_the_median_and_z()
    {
        var losses = EarlyDecay(200).ToList();
        losses.Add(6.0);
        losses.AddRange(Plateau(5, 1.85));
        var (step, findings) = Assert.Single(Run(losses));
        Assert.Equal(200, step);
        var f = Assert.Single(findings);
        Assert.Equal((TrainingAnomalyDetector.GradientExplosion, "loss", "spike"), (f.Type, f.Metric, f.Reason));
        Assert.InRange(f.Baseline!.Value, 1.8, 1.9);
        Assert.True(f.RobustZ > Options.SpikeZScore, $"z {f.RobustZ}");
        Assert.Contains("median of the last 50 steps", f.Message);
    }

    [Fact]
    public void Small_noise_on_a_flat_run_is_not_a_spike_but_a_jump_is()
    {
        // Exactly flat (MAD 0): a 20 % bump is noise-sized relative to the 50 % minimum; a 75 % jump is a spike.
        var flat = Enumerable.Repeat(2.0, 30).ToList();
        Assert.Empty(Run([.. flat, 2.4]));
        Assert.Equal("spike", Assert.Single(Assert.Single(Run([.. flat, 3.5])).Findings).Reason);
    }

    [Fact]
    public void No_spike_before_the_minimum_samples()
    {
        // 9 previous steps (MinSamples 10): a jump to 50 is not judged; the 11th step is.
        Assert.Empty(Run([.. Plateau(9), 50]));
        Assert.Single(Run([.. Plateau(10), 50]));
    }

    [Fact]
    public void Gradient_norm_spike_and_non_finite_gradient_norm()
    {
        var grads = Enumerable.Range(0, 60).Select(i => (double?)(1.0 + 0.1 * Math.Sin(i))).ToList();
        var hits = Run([.. Plateau(61)], [.. grads, 40.0]);
        var f = Assert.Single(Assert.Single(hits).Findings);
        Assert.Equal(("grad_norm", "spike", 40.0), (f.Metric, f.Reason, f.Value));

        var inf = Assert.Single(TrainingAnomalyDetector.Detect(5, 2.0, double.PositiveInfinity, TrainingWindow.Empty, Options));
        Assert.Equal((TrainingAnomalyDetector.GradientExplosion, "grad_norm", "non_finite"), (inf.Type, inf.Metric, inf.Reason));
    }

    [Fact]
    public void One_finding_per_step_the_loss_first()
    {
        var f = Assert.Single(TrainingAnomalyDetector.Detect(5, double.NaN, double.PositiveInfinity, TrainingWindow.Empty, Options));
        Assert.Equal(TrainingAnomalyDetector.NanLoss, f.Type);
    }

    [Fact]
    public void A_nan_step_does_not_enter_the_window_so_the_next_normal_step_is_normal()
    {
        var hits = Run([.. Plateau(30), double.NaN, 2.01, 2.0]);
        Assert.Equal([30], hits.Select(h => h.Step));
    }
}
