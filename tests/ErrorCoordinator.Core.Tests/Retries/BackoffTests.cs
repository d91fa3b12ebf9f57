using ErrorCoordinator.Core.Retries;

namespace ErrorCoordinator.Core.Tests.Retries;

/// <summary>Bounds and distribution of the backoff strategies, with a fixed seed.</summary>
public sealed class BackoffTests
{
    private const long Base = 100;
    private const long Cap = 10_000;

    [Theory]
    [InlineData(0, 100)]
    [InlineData(1, 200)]
    [InlineData(3, 800)]
    [InlineData(6, 6400)]
    [InlineData(7, Cap)]
    [InlineData(200, Cap)]
    public void Exponential_doubles_up_to_the_cap(int n, long expected) =>
        Assert.Equal(expected, Backoff.DelayMs(BackoffKind.Exponential, n, Base, Cap, 0, new SeededRandomSource(1)));

    [Fact]
    public void Constant_is_the_base() =>
        Assert.Equal(Base, Backoff.DelayMs(BackoffKind.Constant, 9, Base, Cap, 5000, new SeededRandomSource(1)));

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(10)]
    public void Full_jitter_stays_in_zero_to_the_capped_exponential_and_is_uniform(int n)
    {
        var random = new SeededRandomSource(12345);
        var ceiling = Math.Min(Cap, Base << n);
        var samples = Enumerable.Range(0, 20_000).Select(_ => Backoff.DelayMs(BackoffKind.ExponentialFullJitter, n, Base, Cap, 0, random)).ToList();
        Assert.All(samples, d => Assert.InRange(d, 0, ceiling));
        // Uniform: mean near ceiling/2, each quarter of the range holds about a quarter of the samples, both ends are reached.
        Assert.InRange(samples.Average(), ceiling * 0.48, ceiling * 0.52);
        for (var q = 0; q < 4; q++)
        {
            var low = ceiling * q / 4.0;
            var high = ceiling * (q + 1) / 4.0;
            var share = samples.Count(d => d >= low && (d < high || q == 3)) / (double)samples.Count;
            Assert.InRange(share, 0.23, 0.27);
        }
        Assert.True(samples.Min() <= ceiling * 0.01);
        Assert.True(samples.Max() >= ceiling * 0.99);
    }

    [Fact]
    public void Full_jitter_is_reproducible_for_a_seed()
    {
        long[] Run(int seed)
        {
            var r = new SeededRandomSource(seed);
            return Enumerable.Range(0, 50).Select(i => Backoff.DelayMs(BackoffKind.ExponentialFullJitter, i % 8, Base, Cap, 0, r)).ToArray();
        }
        Assert.Equal(Run(7), Run(7));
        Assert.NotEqual(Run(7), Run(8));
    }

    [Fact]
    public void Decorrelated_jitter_stays_between_base_and_three_times_the_previous_delay_capped()
    {
        var random = new SeededRandomSource(99);
        long prev = Base;
        var sequence = new List<long>();
        for (var i = 0; i < 5000; i++)
        {
            var d = Backoff.DelayMs(BackoffKind.DecorrelatedJitter, i, Base, Cap, prev, random);
            Assert.InRange(d, Base, Math.Min(Cap, prev * 3));
            sequence.Add(d);
            prev = d;
        }
        // It grows away from the base and reaches the cap region, then stays bounded by the cap.
        Assert.Contains(sequence, d => d > Cap / 2);
        Assert.Equal(Cap, sequence.Max());
    }

    [Fact]
    public void Decorrelated_jitter_from_a_fixed_previous_delay_is_uniform_over_base_to_three_times_it()
    {
        var random = new SeededRandomSource(2024);
        const long prev = 1000;
        var samples = Enumerable.Range(0, 20_000).Select(_ => Backoff.DelayMs(BackoffKind.DecorrelatedJitter, 3, Base, Cap, prev, random)).ToList();
        Assert.All(samples, d => Assert.InRange(d, Base, 3 * prev));
        Assert.InRange(samples.Average(), (Base + 3 * prev) / 2.0 * 0.98, (Base + 3 * prev) / 2.0 * 1.02);
    }

    [Fact]
    public void A_zero_base_means_no_delay_for_every_strategy()
    {
        foreach (var kind in Enum.GetValues<BackoffKind>())
            Assert.Equal(0, Backoff.DelayMs(kind, 4, 0, Cap, 0, new SeededRandomSource(3)));
    }

    [Theory]
    [InlineData(null, BackoffKind.ExponentialFullJitter)]
    [InlineData("exponential_full_jitter", BackoffKind.ExponentialFullJitter)]
    [InlineData("Decorrelated_Jitter", BackoffKind.DecorrelatedJitter)]
    [InlineData("exponential", BackoffKind.Exponential)]
    [InlineData("constant", BackoffKind.Constant)]
    public void Parses_the_wire_names(string? wire, BackoffKind expected)
    {
        Assert.True(Backoff.TryParse(wire, out var kind));
        Assert.Equal(expected, kind);
        Assert.False(Backoff.TryParse("linear", out _));
    }
}
