using System.Collections.Concurrent;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace ErrorCoordinator.Mcp.Resources;

/// <summary>
/// Which client sessions subscribed to which resource URIs (resources/subscribe), and the sender of
/// <c>notifications/resources/updated</c>. Capabilities call <see cref="NotifyUpdatedAsync"/> when a resource changes,
/// typically from an event-bus subscription so a change made through another server process reaches this one's clients.
/// A session that can no longer be reached is dropped.
/// </summary>
public sealed partial class ResourceSubscriptions(ILogger<ResourceSubscriptions> logger)
{
    // Canonical URI -> subscribed session -> the URI as that session spelled it (its notifications carry that spelling).
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<McpServer, string>> _byUri = new(StringComparer.Ordinal);

    public void Subscribe(McpServer session, string uri) => _byUri.GetOrAdd(Canonical(uri), _ => new())[session] = uri;

    public void Unsubscribe(McpServer session, string uri)
    {
        if (_byUri.TryGetValue(Canonical(uri), out var sessions)) sessions.TryRemove(session, out _);
    }

    /// <summary>Sessions currently subscribed to <paramref name="uri"/>.</summary>
    public int Count(string uri) => _byUri.TryGetValue(Canonical(uri), out var sessions) ? sessions.Count : 0;

    /// <summary>
    /// One spelling per resource: the part after <c>scheme://</c> decoded and percent-encoded again, so
    /// <c>breaker://agent:loader</c>, <c>breaker://agent%3aloader</c> and <c>breaker://agent%3Aloader</c> are one subscription.
    /// </summary>
    public static string Canonical(string uri)
    {
        var at = uri.IndexOf("://", StringComparison.Ordinal);
        if (at < 0) return uri;
        var rest = uri[(at + 3)..];
        try
        {
            return uri[..(at + 3)] + Uri.EscapeDataString(Uri.UnescapeDataString(rest));
        }
        catch (UriFormatException)
        {
            return uri;
        }
    }

    /// <summary>
    /// Sends <c>notifications/resources/updated</c> to every session subscribed to <paramref name="uri"/> in any spelling
    /// (<see cref="Canonical"/>); each notification carries the URI as that session subscribed it.
    /// </summary>
    public async Task NotifyUpdatedAsync(string uri, CancellationToken cancellationToken = default)
    {
        uri = Canonical(uri);
        if (!_byUri.TryGetValue(uri, out var sessions) || sessions.IsEmpty) return;
        foreach (var (session, spelled) in sessions)
        {
            try
            {
                await session.SendNotificationAsync(NotificationMethods.ResourceUpdatedNotification, new ResourceUpdatedNotificationParams { Uri = spelled },
                    McpJsonUtilities.DefaultOptions, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                sessions.TryRemove(session, out _);
                SessionDropped(logger, uri, ex.Message);
            }
        }
    }

    /// <summary>The subscribe/unsubscribe handlers for the MCP server builder.</summary>
    public static IMcpServerBuilder AddHandlers(IMcpServerBuilder builder) => builder
        .WithSubscribeToResourcesHandler((context, _) =>
        {
            var uri = context.Params?.Uri ?? throw new McpProtocolException("'uri' is required.", McpErrorCode.InvalidParams);
            context.Services!.GetRequiredService<ResourceSubscriptions>().Subscribe(context.Server, uri);
            return ValueTask.FromResult(new EmptyResult());
        })
        .WithUnsubscribeFromResourcesHandler((context, _) =>
        {
            var uri = context.Params?.Uri ?? throw new McpProtocolException("'uri' is required.", McpErrorCode.InvalidParams);
            context.Services!.GetRequiredService<ResourceSubscriptions>().Unsubscribe(context.Server, uri);
            return ValueTask.FromResult(new EmptyResult());
        });

    [LoggerMessage(EventId = 5001, Level = LogLevel.Debug, Message = "Dropped a subscriber of {Uri}: {Reason}")]
    private static partial void SessionDropped(ILogger logger, string uri, string reason);
}
