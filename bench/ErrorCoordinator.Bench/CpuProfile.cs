using System.Diagnostics;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Hosting;
using ErrorCoordinator.Core.Scrubbing;
using ErrorCoordinator.Core.Signatures;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ErrorCoordinator.Bench;

/// <summary>
/// Client CPU per report with no I/O at all, one thread: the real <see cref="ErrorReportingService"/> (validation,
/// scrubbing, classification, signature) over a store that only serialises the event as the Redis store does; and the
/// seed-style baseline's CPU part (event JSON + seed signature). Shows how much of a report's cost is client-side.
/// </summary>
internal static class CpuProfile
{
    public sealed record Result(double ServiceMicros, double SeedMicros, IReadOnlyList<(string Stage, double Micros)> Stages);

    public static async Task<Result> MeasureAsync(FailureReport[] reports, TimeSpan duration)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddErrorReporting(new ConfigurationBuilder().Build());
        services.AddSingleton<IErrorStore, SerializeOnlyStore>();
        await using var provider = services.BuildServiceProvider();
        var service = provider.GetRequiredService<ErrorReportingService>();

        Prime(provider, reports);
        var serviceMicros = await TimeAsync(async i => await service.ReportAsync(reports[i % reports.Length]), duration);
        var seedMicros = await TimeAsync(i =>
        {
            var r = reports[i % reports.Length];
            _ = SeedBaseline.BuildEventJson(r, TimeProvider.System.GetUtcNow());
            _ = SeedBaseline.GenerateErrorSignature(r.ErrorType, r.Message);
            return Task.CompletedTask;
        }, duration);

        // The service's stages one at a time (same singletons, same inputs), to see which dominates.
        var validator = provider.GetRequiredService<FailureValidator>();
        var scrubber = provider.GetRequiredService<SecretScrubber>();
        var classifier = provider.GetRequiredService<ErrorClassifier>();
        var signatures = provider.GetRequiredService<ISignatureEngine>();
        var store = (SerializeOnlyStore)provider.GetRequiredService<IErrorStore>();
        var scrubbed = reports.Select(r => (Message: scrubber.Scrub(r.Message)!, Stack: scrubber.Scrub(r.Stack), Tags: scrubber.ScrubTags(r.Tags))).ToArray();
        store.Capture = true;
        foreach (var r in reports) await service.ReportAsync(r);
        store.Capture = false;
        var events = store.Captured.ToArray();
        var slice = duration / 4;
        var shortWarmup = TimeSpan.FromMilliseconds(100);
        var stages = new List<(string, double)>
        {
            ("validate", await TimeAsync(i => { validator.Validate(reports[i % reports.Length]); return Task.CompletedTask; }, slice, shortWarmup)),
            ("scrub", await TimeAsync(i =>
            {
                var r = reports[i % reports.Length];
                scrubber.Scrub(r.Message);
                scrubber.Scrub(r.Stack);
                scrubber.ScrubTags(r.Tags);
                return Task.CompletedTask;
            }, slice, shortWarmup)),
            ("classify", await TimeAsync(i =>
            {
                var r = reports[i % reports.Length];
                classifier.Classify(r.ErrorType, scrubbed[i % reports.Length].Message, r.Code);
                return Task.CompletedTask;
            }, slice, shortWarmup)),
            ("signature", await TimeAsync(async i =>
            {
                var r = reports[i % reports.Length];
                var x = scrubbed[i % reports.Length];
                await signatures.ComputeAsync(new SignatureInput(r.ErrorType, x.Message, x.Stack, r.Agent, r.Component, x.Tags));
            }, slice, shortWarmup)),
            ("event JSON", await TimeAsync(i => { CoreJson.Serialize(events[i % events.Length]); return Task.CompletedTask; }, slice, shortWarmup)),
        };
        return new Result(serviceMicros, seedMicros, stages);
    }

    /// <summary>
    /// Runs every pooled report through the instance's scrubber and classifier once. Their NonBacktracking regexes
    /// build DFA states lazily, per instance, as new text is seen; a long-running server has built them long ago, so
    /// a measurement that starts with a fresh instance would charge that one-time cost to the first few thousand reports.
    /// </summary>
    public static void Prime(IServiceProvider provider, FailureReport[] reports)
    {
        var scrubber = provider.GetRequiredService<SecretScrubber>();
        var classifier = provider.GetRequiredService<ErrorClassifier>();
        foreach (var r in reports)
        {
            var message = scrubber.Scrub(r.Message)!;
            scrubber.Scrub(r.Stack);
            scrubber.ScrubTags(r.Tags);
            classifier.Classify(r.ErrorType, message, r.Code);
        }
    }

    private static async Task<double> TimeAsync(Func<int, Task> op, TimeSpan duration, TimeSpan? warmup = null)
    {
        var warmFor = warmup ?? duration / 2;
        // Warm-up long enough for tiered JIT to promote the hot paths (tier-0 code is several times slower).
        var warm = Stopwatch.GetTimestamp();
        for (var i = 0; Stopwatch.GetElapsedTime(warm) < warmFor || i < 2_000; i++) await op(i);
        var start = Stopwatch.GetTimestamp();
        var n = 0;
        while (Stopwatch.GetElapsedTime(start) < duration)
            for (var k = 0; k < 100; k++) await op(n++);
        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / n;
    }

    private sealed class SerializeOnlyStore : IErrorStore
    {
        private static readonly Task<RecordOutcome> Outcome = Task.FromResult(new RecordOutcome(false, 2, GroupStatus.Unresolved));

        public bool Capture { get; set; }
        public List<ErrorEvent> Captured { get; } = [];

        public Task<RecordOutcome> RecordAsync(ErrorEvent errorEvent, RecordOptions options, CancellationToken cancellationToken = default)
        {
            if (Capture) Captured.Add(errorEvent);
            _ = CoreJson.Serialize(errorEvent);
            return Outcome;
        }

        public Task<Page<ErrorEvent>> QueryEventsAsync(ErrorQuery query, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task<Page<ErrorGroup>> ListGroupsAsync(GroupQuery query, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task<ErrorGroupDetail?> GetGroupAsync(string groupId, DateTimeOffset now, int samples, int hours, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task<ErrorGroup?> UpdateGroupStatusAsync(string groupId, GroupStatus status, string? note, DateTimeOffset now, string channel, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task<IReadOnlyList<string>> ReadAuditAsync(int count, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
