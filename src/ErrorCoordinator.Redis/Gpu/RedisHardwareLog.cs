using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Gpu;
using ErrorCoordinator.Redis.Scripting;
using StackExchange.Redis;

namespace ErrorCoordinator.Redis.Gpu;

/// <summary>
/// The hardware log in Redis: <c>appendHardwareLog-2</c> deduplicates by signature and appends in one step, so several
/// servers watching one host's GPUs report a finding once per dedup window.
/// </summary>
public sealed class RedisHardwareLog(IConnectionMultiplexer mux, KeySchema keys, RedisScripts scripts) : IHardwareLog
{
    public async Task<bool> TryAppendAsync(HardwareLogEntry entry, TimeSpan dedupWindow, int maxEntries, TimeSpan retention, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        cancellationToken.ThrowIfCancellationRequested();
        var result = await scripts.EvaluateAsync(RedisScripts.AppendHardwareLog, [keys.HardwareLog, keys.HardwareSeen(entry.Signature)],
            [CoreJson.Serialize(entry), (long)dedupWindow.TotalMilliseconds, maxEntries, (long)retention.TotalMilliseconds]).ConfigureAwait(false);
        return (long)result == 1;
    }

    public Task ForgetAsync(string signature, CancellationToken cancellationToken = default) =>
        mux.GetDatabase().KeyDeleteAsync(keys.HardwareSeen(signature));

    public async Task<IReadOnlyList<HardwareLogEntry>> ReadAsync(int limit, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var values = await mux.GetDatabase().ListRangeAsync(keys.HardwareLog, 0, Math.Max(0, limit) - 1).ConfigureAwait(false);
        return values.Select(x => CoreJson.Deserialize<HardwareLogEntry>(x!)).ToArray();
    }
}
