using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Correlation;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Events;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Incidents;

/// <summary>
/// Opens and feeds incidents from the event bus, in every server process: error events (<c>events:errors:&lt;kind&gt;</c>),
/// breaker transitions (<c>events:errors:circuit_breakers</c>) and exhausted retries (<c>events:errors:retry_exhausted</c>).
/// Bus handlers only enqueue; one loop signals the store, whose atomic dedup makes every process agree on one incident per
/// cluster. A timer correlates the recent window when errors arrived and opens an incident for every active cascade.
/// It also relays incident changes (<c>events:incidents</c>) to the <see cref="IIncidentObserver"/>s of this process.
/// </summary>
public sealed class IncidentOpener(
    IEventBus bus,
    IncidentService incidents,
    CorrelationService correlation,
    IEnumerable<IIncidentObserver> observers,
    IOptions<IncidentOptions> options,
    ChannelNames channels,
    TimeProvider time,
    ILogger<IncidentOpener> logger) : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _subscriptions = [];
    private readonly IIncidentObserver[] _observers = observers.ToArray();
    private Channel<BusMessage>? _queue;
    private CancellationTokenSource? _stop;
    private Task? _loop;
    private ITimer? _timer;
    private int _dirty;
    private int _checking;
    private DateTimeOffset _lastCheck = DateTimeOffset.MinValue;
    private DependencyGraph _graph = DependencyGraph.Empty;
    private DateTimeOffset _graphReadAt = DateTimeOffset.MinValue;
    private long _handled;

    /// <summary>Bus messages this process has handled so far (for health and tests).</summary>
    public long HandledMessages => Interlocked.Read(ref _handled);

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        _stop = new CancellationTokenSource();
        if (_observers.Length > 0)
            _subscriptions.Add(await bus.SubscribeAsync(channels.Incidents(), OnIncidentChange, cancellationToken));
        if (!options.Value.AutoOpen) return;
        _queue = Channel.CreateBounded<BusMessage>(new BoundedChannelOptions(options.Value.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        }, _ => Log.QueueFull(logger));
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
        _subscriptions.Add(await bus.SubscribeAsync(channels.AllErrors, m => _queue.Writer.TryWrite(m), cancellationToken));
        var period = TimeSpan.FromSeconds(options.Value.CascadeCheckSeconds);
        _timer = time.CreateTimer(_ => _ = TickAsync(), null, period, period);
    }

    public async Task StopAsync()
    {
        foreach (var s in _subscriptions) await s.DisposeAsync();
        _subscriptions.Clear();
        _timer?.Dispose();
        _queue?.Writer.TryComplete();
        _stop?.Cancel();
        if (_loop is not null)
        {
            try { await _loop; } catch (OperationCanceledException) { }
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task RunAsync(CancellationToken ct)
    {
        await foreach (var message in _queue!.Reader.ReadAllAsync(ct))
        {
            try
            {
                await HandleAsync(message, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.HandlerFailed(logger, ex, message.Channel);
            }
            Interlocked.Increment(ref _handled);
        }
    }

    /// <summary>Handles one bus message (the loop calls it; tests call it directly).</summary>
    public async Task<SignalOutcome?> HandleAsync(BusMessage message, CancellationToken cancellationToken = default)
    {
        if (message.Channel == channels.Breakers)
        {
            using var doc = JsonDocument.Parse(message.Payload);
            var root = doc.RootElement;
            var type = Str(root, "type");
            var component = Str(root, "component");
            if (type is null || component is null) return null;
            return await incidents.OnBreakerAsync(type, component, Str(root, "event_id") ?? DerivedId("cbe_", message.Payload),
                Str(root, "reason"), Time(root) ?? time.GetUtcNow(), cancellationToken);
        }
        if (message.Channel == channels.Errors("retry_exhausted"))
        {
            using var doc = JsonDocument.Parse(message.Payload);
            var root = doc.RootElement;
            // The retry queue publishes the attempt that failed last as "attempt".
            int? attempts = (root.TryGetProperty("attempts", out var a) || root.TryGetProperty("attempt", out a)) && a.TryGetInt32(out var n) ? n : null;
            return await incidents.OnRetryExhaustedAsync(Str(root, "event_id") ?? DerivedId("rex_", message.Payload), Str(root, "component"),
                Str(root, "task_id"), Str(root, "agent"), attempts, Time(root) ?? time.GetUtcNow(), cancellationToken);
        }
        if (!message.Payload.Contains("\"group_id\"", StringComparison.Ordinal) || !message.Payload.Contains("\"event_id\"", StringComparison.Ordinal)) return null;
        ErrorEvent e;
        try
        {
            e = CoreJson.Deserialize<ErrorEvent>(message.Payload);
        }
        catch (JsonException)
        {
            return null;
        }
        Interlocked.Exchange(ref _dirty, 1);
        return await incidents.OnErrorAsync(e, await GraphAsync(cancellationToken), cancellationToken);
    }

    private async Task TickAsync()
    {
        if (Interlocked.Exchange(ref _dirty, 0) == 0) return;
        if (Interlocked.Exchange(ref _checking, 1) == 1) return;
        try
        {
            await CheckCascadesAsync(_stop?.Token ?? CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.HandlerFailed(logger, ex, "cascade check");
        }
        finally
        {
            Interlocked.Exchange(ref _checking, 0);
        }
    }

    /// <summary>
    /// Correlates the default window ending now; every significant cascade cluster that received an error since the
    /// previous check of this process opens (or joins) its incident. Returns the outcomes.
    /// </summary>
    public async Task<IReadOnlyList<SignalOutcome>> CheckCascadesAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var since = now.AddSeconds(-correlation.Options.DefaultWindowSeconds);
        var (events, _) = await correlation.ReadEventsAsync(since, now, cancellationToken);
        var graph = await GraphAsync(cancellationToken, refresh: true);
        var analysis = CorrelationEngine.Analyze(events, graph, CorrelationSettings.From(correlation.Options));
        var byId = events.ToDictionary(e => e.EventId, e => e.OccurredAt, StringComparer.Ordinal);
        var outcomes = new List<SignalOutcome>();
        var previous = _lastCheck;
        _lastCheck = now;
        // Clusters that received no error since the previous check were handled then (and may have been resolved since).
        foreach (var cluster in analysis.Clusters.Where(c => c.Cascade && c.Significant && c.LastReceivedAt > previous))
        {
            var top = analysis.RootCauses.FirstOrDefault(r => r.ClusterId == cluster.Id);
            var cited = cluster.EventIds.Select(id => new CitedEvent(id, byId[id])).ToList();
            outcomes.Add(await incidents.OnCascadeAsync(cluster, cited, analysis.Abstain ? null : top, cancellationToken));
        }
        return outcomes;
    }

    private async Task<DependencyGraph> GraphAsync(CancellationToken ct, bool refresh = false)
    {
        var now = time.GetUtcNow();
        if (refresh || now - _graphReadAt > TimeSpan.FromSeconds(options.Value.CascadeCheckSeconds))
        {
            _graph = (await correlation.GetGraphAsync(ct)).Graph;
            _graphReadAt = now;
        }
        return _graph;
    }

    private void OnIncidentChange(BusMessage message)
    {
        string? id;
        try
        {
            id = CoreJson.Deserialize<IncidentChange>(message.Payload).IncidentId;
        }
        catch (JsonException)
        {
            return;
        }
        foreach (var o in _observers)
        {
            _ = Notify(o, id);
        }
    }

    private async Task Notify(IIncidentObserver observer, string id)
    {
        try
        {
            await observer.IncidentChangedAsync(id);
        }
        catch (Exception ex)
        {
            Log.NotifyFailed(logger, ex, id);
        }
    }

    private static string? Str(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : null;

    private static DateTimeOffset? Time(JsonElement root)
    {
        foreach (var name in new[] { "at", "timestamp", "occurred_at" })
            if (root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.TryGetDateTimeOffset(out var t)) return t;
        return null;
    }

    /// <summary>An id for an event published without one: the same payload gives the same id in every process.</summary>
    private static string DerivedId(string prefix, string payload) =>
        prefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(payload)))[..24];
}
