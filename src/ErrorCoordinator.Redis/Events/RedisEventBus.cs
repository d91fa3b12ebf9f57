using ErrorCoordinator.Core.Events;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace ErrorCoordinator.Redis.Events;

/// <summary>
/// Redis pub/sub: <see cref="PublishAsync"/> is PUBLISH on a literal channel; <see cref="SubscribeAsync"/> is
/// PSUBSCRIBE on a glob pattern (<c>events:errors:*</c>), so every agent on every machine sees the events.
/// </summary>
public sealed class RedisEventBus(IConnectionMultiplexer mux, ILogger<RedisEventBus>? logger = null) : IEventBus
{
    private readonly ILogger _logger = logger ?? NullLogger<RedisEventBus>.Instance;

    /// <inheritdoc />
    public Task PublishAsync(string channel, string payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(payload);
        cancellationToken.ThrowIfCancellationRequested();
        return mux.GetSubscriber().PublishAsync(RedisChannel.Literal(channel), payload);
    }

    /// <inheritdoc />
    public async Task<IAsyncDisposable> SubscribeAsync(string pattern, Action<BusMessage> handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(handler);
        cancellationToken.ThrowIfCancellationRequested();
        var subscriber = mux.GetSubscriber();
        var channel = RedisChannel.Pattern(pattern);
        Action<RedisChannel, RedisValue> callback = (ch, value) =>
        {
            try
            {
                handler(new BusMessage(ch.ToString(), value.ToString()));
            }
            catch (Exception ex)
            {
                // A subscriber's bug must not break the connection's message loop.
                Log.SubscriberFailed(_logger, ex, pattern);
            }
        };
        await subscriber.SubscribeAsync(channel, callback).ConfigureAwait(false);
        return new Subscription(subscriber, channel, callback);
    }

    private sealed class Subscription(ISubscriber subscriber, RedisChannel channel, Action<RedisChannel, RedisValue> callback) : IAsyncDisposable
    {
        private int _disposed;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
                await subscriber.UnsubscribeAsync(channel, callback).ConfigureAwait(false);
        }
    }
}
