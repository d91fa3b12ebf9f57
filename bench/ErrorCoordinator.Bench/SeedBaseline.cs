using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using ErrorCoordinator.Core.Errors;
using StackExchange.Redis;

namespace ErrorCoordinator.Bench;

/// <summary>
/// The original design's <c>handleTaskFailure</c> (seed "Pattern 1: Task Failure Events"), honestly: the same
/// report written as sequential, awaited single commands: PUBLISH, LPUSH + EXPIRE, 4 x HSET, SADD, HGET, HSET.
/// 10 round trips per report. Its HGET-then-HSET counter loses updates under concurrency; the bench counts them.
/// Keys and channel carry a per-run prefix so runs never collide.
/// </summary>
internal sealed partial class SeedBaseline(IConnectionMultiplexer mux, string prefix, TimeProvider time)
{
    private const int SevenDays = 604800;

    private readonly RedisChannel _channel = RedisChannel.Literal(prefix + "events:errors:task_failures");
    private readonly RedisKey _log = prefix + "errors:tasks:log";
    private readonly RedisKey _signatures = prefix + "errors:unique_signatures";
    private readonly RedisKey _counters = prefix + "errors:counters";
    private readonly string _taskPrefix = prefix + "errors:task:";

    public RedisKey CountersKey => _counters;

    public async Task HandleTaskFailureAsync(FailureReport r)
    {
        var db = mux.GetDatabase();
        var timestamp = Timestamp(time.GetUtcNow());
        var severity = ClassifyErrorSeverity(r.ErrorType);
        // The seed calls JSON.stringify twice (publish, lpush); serialising once is generous to the baseline.
        var json = BuildEventJson(r, timestamp, severity);

        await db.PublishAsync(_channel, json).ConfigureAwait(false);
        // mcp__RedisMCPServer__lpush with expire: LPUSH, then EXPIRE.
        await db.ListLeftPushAsync(_log, json).ConfigureAwait(false);
        await db.KeyExpireAsync(_log, TimeSpan.FromSeconds(SevenDays)).ConfigureAwait(false);

        RedisKey details = _taskPrefix + r.TaskId + ":details";
        await db.HashSetAsync(details, "error_message", r.Message).ConfigureAwait(false);
        await db.HashSetAsync(details, "agent", r.Agent).ConfigureAwait(false);
        await db.HashSetAsync(details, "timestamp", timestamp).ConfigureAwait(false);
        await db.HashSetAsync(details, "severity", severity).ConfigureAwait(false);

        await db.SetAddAsync(_signatures, GenerateErrorSignature(r.ErrorType, r.Message)).ConfigureAwait(false);

        var currentCount = await db.HashGetAsync(_counters, r.ErrorType).ConfigureAwait(false);
        var next = (currentCount.IsNullOrEmpty ? 0 : long.Parse(currentCount.ToString(), CultureInfo.InvariantCulture)) + 1;
        await db.HashSetAsync(_counters, r.ErrorType, next.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
    }

    private static string Timestamp(DateTimeOffset now) => now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>The seed's errorEvent object as JSON.</summary>
    internal static string BuildEventJson(FailureReport r, DateTimeOffset now) => BuildEventJson(r, Timestamp(now), ClassifyErrorSeverity(r.ErrorType));

    private static string BuildEventJson(FailureReport r, string timestamp, string severity)
    {
        var errorEvent = new SeedEvent
        {
            Type = "task_failure",
            TaskId = r.TaskId,
            ProjectId = r.Project,
            Agent = r.Agent,
            Error = new SeedError { Name = r.ErrorType, Message = r.Message, Stack = r.Stack, Code = r.Code },
            Timestamp = timestamp,
            Severity = severity,
            Recoverable = IsRecoverable(r.ErrorType),
        };
        return JsonSerializer.Serialize(errorEvent, SeedJson.Default.SeedEvent);
    }

    /// <summary>Round trips per report in the sequence above.</summary>
    public const int RoundTripsPerReport = 10;

    private static string ClassifyErrorSeverity(string name) => name switch
    {
        "OutOfMemoryError" or "CUDAError" => "critical",
        "TimeoutError" or "NetworkError" => "warning",
        _ => "error",
    };

    private static bool IsRecoverable(string name) => name is "TimeoutError" or "NetworkError" or "TemporaryError";

    /// <summary>
    /// The seed's <c>generateErrorSignature</c>, with its order: digits first (so UUIDs are never recognised),
    /// then 36-char [a-f0-9-] runs, then substring(0, 100).
    /// </summary>
    internal static string GenerateErrorSignature(string name, string message)
    {
        var pattern = Digits().Replace(message, "N");
        pattern = UuidLike().Replace(pattern, "UUID");
        if (pattern.Length > 100) pattern = pattern[..100];
        return name + ":" + pattern;
    }

    [GeneratedRegex(@"\d+", RegexOptions.CultureInvariant)]
    private static partial Regex Digits();

    [GeneratedRegex(@"[a-f0-9-]{36}", RegexOptions.CultureInvariant)]
    private static partial Regex UuidLike();
}

internal sealed class SeedEvent
{
    public string Type { get; init; } = "";
    public string? TaskId { get; init; }
    public string? ProjectId { get; init; }
    public string Agent { get; init; } = "";
    public SeedError Error { get; init; } = new();
    public string Timestamp { get; init; } = "";
    public string Severity { get; init; } = "";
    public bool Recoverable { get; init; }
}

internal sealed class SeedError
{
    public string Name { get; init; } = "";
    public string Message { get; init; } = "";
    public string? Stack { get; init; }
    public string? Code { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SeedEvent))]
internal sealed partial class SeedJson : JsonSerializerContext;

/// <summary>
/// A reference, not the baseline: the seed's same writes (PUBLISH, LPUSH + EXPIRE, HSET of the 4 detail fields, SADD,
/// counter) in ONE EVALSHA, with HINCRBY instead of HGET+HSET. Shows what one round trip costs when the script is lean,
/// so the gap between it and report_failure is the work recordFailure does inside Redis.
/// </summary>
internal sealed class SeedOneScript
{
    private const string Script = """
        redis.call('PUBLISH', ARGV[1], ARGV[2])
        redis.call('LPUSH', KEYS[1], ARGV[2])
        redis.call('EXPIRE', KEYS[1], 604800)
        redis.call('HSET', KEYS[2], 'error_message', ARGV[3], 'agent', ARGV[4], 'timestamp', ARGV[5], 'severity', ARGV[6])
        redis.call('SADD', KEYS[3], ARGV[7])
        return redis.call('HINCRBY', KEYS[4], ARGV[8], 1)
        """;

    private readonly IConnectionMultiplexer _mux;
    private readonly TimeProvider _time;
    private readonly string _channel;
    private readonly RedisKey _log;
    private readonly RedisKey _signatures;
    private readonly string _taskPrefix;
    private byte[]? _sha;

    public SeedOneScript(IConnectionMultiplexer mux, string prefix, TimeProvider time)
    {
        _mux = mux;
        _time = time;
        _channel = prefix + "events:errors:task_failures";
        _log = prefix + "errors:tasks:log";
        _signatures = prefix + "errors:unique_signatures";
        CountersKey = prefix + "errors:counters";
        _taskPrefix = prefix + "errors:task:";
    }

    public RedisKey CountersKey { get; }

    public async Task LoadAsync()
    {
        var server = _mux.GetServer(_mux.GetEndPoints()[0]);
        _sha = await server.ScriptLoadAsync(Script).ConfigureAwait(false);
    }

    public async Task HandleTaskFailureAsync(FailureReport r)
    {
        var now = _time.GetUtcNow();
        var timestamp = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var json = SeedBaseline.BuildEventJson(r, now);
        var severity = r.ErrorType switch
        {
            "OutOfMemoryError" or "CUDAError" => "critical",
            "TimeoutError" or "NetworkError" => "warning",
            _ => "error",
        };
        RedisKey[] keys = [_log, _taskPrefix + r.TaskId + ":details", _signatures, CountersKey];
        RedisValue[] values = [_channel, json, r.Message, r.Agent, timestamp, severity, SeedBaseline.GenerateErrorSignature(r.ErrorType, r.Message), r.ErrorType];
        await _mux.GetDatabase().ScriptEvaluateAsync(_sha!, keys, values).ConfigureAwait(false);
    }
}
