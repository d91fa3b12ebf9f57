using System.Text.Json;
using ErrorCoordinator.Core.Correlation;
using ErrorCoordinator.Redis.Scripting;
using StackExchange.Redis;

namespace ErrorCoordinator.Redis.Correlation;

/// <summary>The dependency graph in one Redis hash; a write is one script (<c>registerDependencies-2</c>) with the size cap.</summary>
public sealed class RedisDependencyStore(IConnectionMultiplexer mux, KeySchema keys, RedisScripts scripts) : IDependencyStore
{
    public async Task<DependencyWriteStatus> RegisterAsync(DependencyRegistration registration, int maxComponents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registration);
        cancellationToken.ThrowIfCancellationRequested();
        var result = (long)await scripts.EvaluateAsync(RedisScripts.RegisterDependencies, [keys.DependencyGraph, keys.DependencyUpdated],
            [registration.Component, JsonSerializer.Serialize(registration.DependsOn), registration.UpdatedAt.ToUnixTimeMilliseconds(), maxComponents]).ConfigureAwait(false);
        return result switch
        {
            1 => DependencyWriteStatus.Stored,
            0 => DependencyWriteStatus.Unchanged,
            _ => DependencyWriteStatus.GraphFull,
        };
    }

    public async Task<IReadOnlyList<DependencyRegistration>> GetAllAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var db = mux.GetDatabase();
        var graph = db.HashGetAllAsync(keys.DependencyGraph);
        var updated = db.HashGetAllAsync(keys.DependencyUpdated);
        var times = (await updated.ConfigureAwait(false)).ToDictionary(e => (string)e.Name!, e => (long)e.Value, StringComparer.Ordinal);
        return (await graph.ConfigureAwait(false))
            .Select(e => new DependencyRegistration((string)e.Name!, JsonSerializer.Deserialize<string[]>((string)e.Value!) ?? [],
                DateTimeOffset.FromUnixTimeMilliseconds(times.GetValueOrDefault((string)e.Name!))))
            .OrderBy(r => r.Component, StringComparer.Ordinal).ToList();
    }
}
