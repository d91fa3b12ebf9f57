using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace ErrorCoordinator.Redis.Scripting;

/// <summary>One embedded Lua script: its name (file name without <c>.lua</c>), text and SHA-1.</summary>
public sealed record LuaScriptSource(string Name, string Text, byte[] Sha1);

/// <summary>
/// The embedded Lua scripts (<c>Lua/*.lua</c>), read once. <see cref="LoadAsync"/> SCRIPT LOADs them on every
/// connected primary; <see cref="EvaluateAsync"/> runs one with EVALSHA and, when a server answers NOSCRIPT
/// (restart, failover, SCRIPT FLUSH), loads it again and retries once.
/// </summary>
public sealed class RedisScripts(IConnectionMultiplexer mux, ILogger<RedisScripts>? logger = null)
{
    private const string ResourcePrefix = "ErrorCoordinator.Redis.Lua.";

    /// <summary>Script names.</summary>
    public const string RecordFailure = "recordFailure-18";
    /// <inheritdoc cref="RecordFailure"/>
    public const string UpdateGroupStatus = "updateGroupStatus-4";
    /// <inheritdoc cref="RecordFailure"/>
    public const string RegisterDependencies = "registerDependencies-2";
    /// <inheritdoc cref="RecordFailure"/>
    public const string SignalIncident = "signalIncident-9";
    /// <inheritdoc cref="RecordFailure"/>
    public const string TransitionIncident = "transitionIncident-11";
    /// <inheritdoc cref="RecordFailure"/>
    public const string RecordTrainingStep = "recordTrainingStep-1";
    /// <inheritdoc cref="RecordFailure"/>
    public const string AppendTrainingLog = "appendTrainingLog-1";
    /// <inheritdoc cref="RecordFailure"/>
    public const string AppendHardwareLog = "appendHardwareLog-2";
    /// <inheritdoc cref="RecordFailure"/>
    public const string CheckBreaker = "checkBreaker-6";
    /// <inheritdoc cref="RecordFailure"/>
    public const string RecordOutcome = "recordOutcome-6";
    /// <inheritdoc cref="RecordFailure"/>
    public const string TransitionBreaker = "transitionBreaker-6";
    /// <inheritdoc cref="RecordFailure"/>
    public const string ConfigureBreaker = "configureBreaker-6";

    /// <summary>Files named <c>*.lib.lua</c> are shared code, not scripts: a script line <c>--#include name.lib</c> is replaced by that file.</summary>
    private const string LibrarySuffix = ".lib";
    private const string IncludeDirective = "--#include ";

    private static readonly Lazy<FrozenDictionary<string, LuaScriptSource>> Catalog = new(ReadEmbedded);
    private readonly ILogger _logger = logger ?? NullLogger<RedisScripts>.Instance;

    /// <summary>Every embedded script by name.</summary>
    public static IReadOnlyDictionary<string, LuaScriptSource> All => Catalog.Value;

    /// <summary>The script called <paramref name="name"/>.</summary>
    public static LuaScriptSource Get(string name) =>
        Catalog.Value.TryGetValue(name, out var s) ? s : throw new KeyNotFoundException($"No embedded Lua script '{name}'.");

    /// <summary>SCRIPT LOADs every script on every connected primary endpoint.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken = default)
    {
        foreach (var endpoint in mux.GetEndPoints())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var server = mux.GetServer(endpoint);
            if (!server.IsConnected || server.IsReplica) continue;
            foreach (var script in Catalog.Value.Values)
            {
                var sha = await server.ScriptLoadAsync(script.Text).ConfigureAwait(false);
                if (!sha.AsSpan().SequenceEqual(script.Sha1))
                    throw new InvalidOperationException($"Redis at {endpoint} returned an unexpected SHA-1 for script '{script.Name}'.");
            }
            Log.ScriptsLoaded(_logger, Catalog.Value.Count, endpoint.ToString() ?? "?");
        }
    }

    /// <summary>Runs the script <paramref name="name"/> with EVALSHA, reloading it once on NOSCRIPT.</summary>
    public async Task<RedisResult> EvaluateAsync(string name, RedisKey[] keys, RedisValue[] values, CommandFlags flags = CommandFlags.None)
    {
        var script = Get(name);
        var db = mux.GetDatabase();
        try
        {
            return await db.ScriptEvaluateAsync(script.Sha1, keys, values, flags).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            Log.ScriptReloaded(_logger, name);
            // Load on the server that owns the keys (the one EVALSHA was routed to), then retry once.
            var server = keys.Length > 0
                ? mux.GetServer(db.IdentifyEndpoint(keys[0]) ?? mux.GetEndPoints()[0])
                : mux.GetServer(mux.GetEndPoints()[0]);
            await server.ScriptLoadAsync(script.Text).ConfigureAwait(false);
            return await db.ScriptEvaluateAsync(script.Sha1, keys, values, flags).ConfigureAwait(false);
        }
    }

    private static FrozenDictionary<string, LuaScriptSource> ReadEmbedded()
    {
        var assembly = typeof(RedisScripts).Assembly;
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal) || !resource.EndsWith(".lua", StringComparison.Ordinal)) continue;
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            sources[resource[ResourcePrefix.Length..^".lua".Length]] = reader.ReadToEnd();
        }
        var scripts = new Dictionary<string, LuaScriptSource>(StringComparer.Ordinal);
        foreach (var (name, source) in sources)
        {
            if (name.EndsWith(LibrarySuffix, StringComparison.Ordinal)) continue;
            var text = Expand(name, source, sources);
            scripts[name] = new LuaScriptSource(name, text, SHA1.HashData(Encoding.UTF8.GetBytes(text)));
        }
        return scripts.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string Expand(string name, string source, Dictionary<string, string> sources)
    {
        if (!source.Contains(IncludeDirective, StringComparison.Ordinal)) return source;
        var lines = source.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (!line.StartsWith(IncludeDirective, StringComparison.Ordinal)) continue;
            var library = line[IncludeDirective.Length..].Trim();
            if (!library.EndsWith(LibrarySuffix, StringComparison.Ordinal) || !sources.TryGetValue(library, out var text))
                throw new InvalidOperationException($"Lua script '{name}' includes '{library}', which is not an embedded Lua/*.lib.lua file.");
            lines[i] = text;
        }
        return string.Join('\n', lines);
    }
}
