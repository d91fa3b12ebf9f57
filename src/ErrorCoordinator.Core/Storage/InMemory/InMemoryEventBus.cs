using System.Collections.Immutable;
using ErrorCoordinator.Core.Events;

namespace ErrorCoordinator.Core.Storage.InMemory;

/// <summary>In-process pub/sub with Redis PSUBSCRIBE glob semantics. Handlers run synchronously on the publisher.</summary>
public sealed class InMemoryEventBus : IEventBus
{
    private ImmutableList<Subscription> _subscriptions = ImmutableList<Subscription>.Empty;

    public Task PublishAsync(string channel, string payload, CancellationToken cancellationToken = default)
    {
        Publish(channel, payload);
        return Task.CompletedTask;
    }

    /// <summary>Delivers to every matching subscriber; a failing handler does not stop the others.</summary>
    public int Publish(string channel, string payload)
    {
        var delivered = 0;
        var message = new BusMessage(channel, payload);
        foreach (var s in _subscriptions)
        {
            if (!GlobPattern.IsMatch(s.Pattern, channel)) continue;
            try
            {
                s.Handler(message);
                delivered++;
            }
            catch
            {
                // A subscriber's bug must not fail the publisher's write.
            }
        }
        return delivered;
    }

    public Task<IAsyncDisposable> SubscribeAsync(string pattern, Action<BusMessage> handler, CancellationToken cancellationToken = default)
    {
        var subscription = new Subscription(this, pattern, handler);
        ImmutableInterlocked.Update(ref _subscriptions, l => l.Add(subscription));
        return Task.FromResult<IAsyncDisposable>(subscription);
    }

    private sealed class Subscription(InMemoryEventBus bus, string pattern, Action<BusMessage> handler) : IAsyncDisposable
    {
        public string Pattern { get; } = pattern;
        public Action<BusMessage> Handler { get; } = handler;

        public ValueTask DisposeAsync()
        {
            ImmutableInterlocked.Update(ref bus._subscriptions, l => l.Remove(this));
            return ValueTask.CompletedTask;
        }
    }
}
