using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Events;

namespace ErrorCoordinator.Mcp.Hosting;

/// <summary>
/// Opens the store before the server accepts calls: connects to Redis (one clear error if it is unreachable)
/// or announces the embedded store on stderr.
/// </summary>
public sealed class StoreStartup(IServiceProvider services, StoreDescription store)
{
    public const string EmbeddedNotice =
        "ErrorCoordinator: no Redis configured; using the embedded in-memory store (state is not shared with other processes and is lost on exit; set --redis or REDIS_URL to share it).";

    public void EnsureReady(TextWriter stderr)
    {
        // Resolving the ports connects to Redis and loads the scripts; failures surface here, before any call is served.
        _ = services.GetRequiredService<IErrorStore>();
        _ = services.GetRequiredService<IEventBus>();
        if (store.Kind == "in-memory") stderr.WriteLine(EmbeddedNotice);
        else stderr.WriteLine($"ErrorCoordinator: using Redis at {store.Target}.");
    }
}
