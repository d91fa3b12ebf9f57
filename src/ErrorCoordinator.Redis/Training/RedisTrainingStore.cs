using System.Globalization;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Training;
using ErrorCoordinator.Redis.Scripting;
using StackExchange.Redis;

namespace ErrorCoordinator.Redis.Training;

/// <summary>
/// The Redis training store: one <c>recordTrainingStep-2</c> script per step (read the window and extend it atomically,
/// one round trip), one <c>appendTrainingLog-1</c> per anomaly. Same semantics as the embedded store.
/// </summary>
public sealed class RedisTrainingStore(IConnectionMultiplexer mux, KeySchema keys, RedisScripts scripts) : ITrainingStore
{
    public async Task<TrainingWindow> RecordStepAsync(string project, string run, double? loss, double? gradNorm, int window, TimeSpan idleRetention, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        RedisKey[] k = [keys.TrainingLosses(project, run), keys.TrainingGradNorms(project, run)];
        RedisValue[] v = [Number(loss), Number(gradNorm), window, (long)idleRetention.TotalMilliseconds];
        var result = (RedisResult[])(await scripts.EvaluateAsync(RedisScripts.RecordTrainingStep, k, v).ConfigureAwait(false))!;
        return new TrainingWindow(Parse((RedisResult[])result[0]!), Parse((RedisResult[])result[1]!));
    }

    public async Task AppendLogAsync(string project, TrainingLogEntry entry, int maxEntries, TimeSpan retention, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await scripts.EvaluateAsync(RedisScripts.AppendTrainingLog, [keys.TrainingLog(project)],
            [CoreJson.Serialize(entry), maxEntries, (long)retention.TotalMilliseconds]).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<TrainingLogEntry>> ReadLogAsync(string project, int limit, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var values = await mux.GetDatabase().ListRangeAsync(keys.TrainingLog(project), 0, limit - 1).ConfigureAwait(false);
        return values.Select(x => CoreJson.Deserialize<TrainingLogEntry>(x!)).ToArray();
    }

    private static RedisValue Number(double? value) =>
        value is { } d && double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : RedisValue.EmptyString;

    private static double[] Parse(RedisResult[] values)
    {
        var result = new double[values.Length];
        for (var i = 0; i < values.Length; i++) result[i] = double.Parse((string)values[i]!, NumberStyles.Float, CultureInfo.InvariantCulture);
        return result;
    }
}
