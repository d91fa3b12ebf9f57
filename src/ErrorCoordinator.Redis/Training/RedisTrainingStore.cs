using System.Buffers.Binary;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Training;
using ErrorCoordinator.Redis.Scripting;
using StackExchange.Redis;

namespace ErrorCoordinator.Redis.Training;

/// <summary>
/// The Redis training store. A run's window is one string of 16-byte step records (loss, grad norm; little-endian doubles,
/// NaN where absent), read and extended by one <c>recordTrainingStep-1</c> script per step: one round trip, two commands
/// inside. Anomalies go to the project's log with <c>appendTrainingLog-1</c>. Same semantics as the embedded store.
/// </summary>
public sealed class RedisTrainingStore(IConnectionMultiplexer mux, KeySchema keys, RedisScripts scripts) : ITrainingStore
{
    internal const int RecordBytes = 16;

    public async Task<TrainingWindow> RecordStepAsync(string project, string run, double? loss, double? gradNorm, int window, TimeSpan idleRetention, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        RedisValue record = RedisValue.EmptyString;
        var l = Finite(loss);
        var g = Finite(gradNorm);
        if (!double.IsNaN(l) || !double.IsNaN(g))
        {
            var bytes = new byte[RecordBytes];
            BinaryPrimitives.WriteDoubleLittleEndian(bytes, l);
            BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(8), g);
            record = bytes;
        }
        var result = await scripts.EvaluateAsync(RedisScripts.RecordTrainingStep, [keys.TrainingWindow(project, run)],
            [record, window * RecordBytes, (long)idleRetention.TotalMilliseconds]).ConfigureAwait(false);
        return Decode((byte[]?)result, window);
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

    private static double Finite(double? value) => value is { } d && double.IsFinite(d) ? d : double.NaN;

    /// <summary>The window's finite losses and grad norms, newest first, from at most <paramref name="window"/> records.</summary>
    internal static TrainingWindow Decode(byte[]? data, int window)
    {
        if (data is null || data.Length < RecordBytes) return TrainingWindow.Empty;
        var count = Math.Min(window, data.Length / RecordBytes);
        var losses = new List<double>(count);
        var grads = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var span = data.AsSpan(i * RecordBytes, RecordBytes);
            var l = BinaryPrimitives.ReadDoubleLittleEndian(span);
            var g = BinaryPrimitives.ReadDoubleLittleEndian(span[8..]);
            if (!double.IsNaN(l)) losses.Add(l);
            if (!double.IsNaN(g)) grads.Add(g);
        }
        return new TrainingWindow(losses, grads);
    }
}
