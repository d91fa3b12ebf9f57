using ErrorCoordinator.Core.Gpu;

namespace ErrorCoordinator.Core.Storage.InMemory;

/// <summary>The hardware log in memory: same semantics as the Redis one (dedup window, count cap, retention past the last append).</summary>
public sealed class InMemoryHardwareLog(TimeProvider time) : IHardwareLog
{
    private readonly Lock _gate = new();
    private readonly LinkedList<HardwareLogEntry> _entries = new();
    private readonly Dictionary<string, DateTimeOffset> _seenUntil = new(StringComparer.Ordinal);
    private DateTimeOffset _expiresAt = DateTimeOffset.MaxValue;

    public Task<bool> TryAppendAsync(HardwareLogEntry entry, TimeSpan dedupWindow, int maxEntries, TimeSpan retention, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var now = time.GetUtcNow();
        lock (_gate)
        {
            Expire(now);
            if (_seenUntil.TryGetValue(entry.Signature, out var until) && until > now) return Task.FromResult(false);
            _seenUntil[entry.Signature] = now + dedupWindow;
            _entries.AddFirst(entry);
            while (_entries.Count > maxEntries) _entries.RemoveLast();
            _expiresAt = now + retention;
            // The dedup markers expire on their own; sweep the stale ones so the map stays bounded.
            if (_seenUntil.Count > 4 * maxEntries)
                foreach (var stale in _seenUntil.Where(p => p.Value <= now).Select(p => p.Key).ToArray()) _seenUntil.Remove(stale);
            return Task.FromResult(true);
        }
    }

    public Task ForgetAsync(string signature, CancellationToken cancellationToken = default)
    {
        lock (_gate) _seenUntil.Remove(signature);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<HardwareLogEntry>> ReadAsync(int limit, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Expire(time.GetUtcNow());
            return Task.FromResult<IReadOnlyList<HardwareLogEntry>>(_entries.Take(Math.Max(0, limit)).ToArray());
        }
    }

    private void Expire(DateTimeOffset now)
    {
        if (now < _expiresAt) return;
        _entries.Clear();
        _expiresAt = DateTimeOffset.MaxValue;
    }
}
