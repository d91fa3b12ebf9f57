using System.Globalization;
using StackExchange.Redis;

namespace ErrorCoordinator.Bench;

/// <summary>One command's counters from <c>INFO commandstats</c>.</summary>
internal readonly record struct CommandCounter(long Calls, long Usec);

/// <summary>
/// Snapshots of <c>INFO commandstats</c> (read over a separate admin connection) and their deltas.
/// Redis counts commands executed inside Lua scripts in commandstats too, under their own names.
/// </summary>
internal static class CommandStats
{
    /// <summary>Script-running commands: each is one top-level client command, however much it does inside.</summary>
    public static readonly HashSet<string> ScriptCommands = new(StringComparer.OrdinalIgnoreCase)
    {
        "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro",
    };

    /// <summary>Commands the bench itself issues to take the snapshots; left out of every delta.</summary>
    private static readonly HashSet<string> Measurement = new(StringComparer.OrdinalIgnoreCase) { "info" };

    public static async Task<Dictionary<string, CommandCounter>> SnapshotAsync(IServer admin)
    {
        var text = (string?)await admin.ExecuteAsync("INFO", "commandstats").ConfigureAwait(false) ?? "";
        var result = new Dictionary<string, CommandCounter>(StringComparer.OrdinalIgnoreCase);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (!line.StartsWith("cmdstat_", StringComparison.Ordinal)) continue;
            var colon = line.IndexOf(':');
            if (colon < 0) continue;
            var name = line["cmdstat_".Length..colon];
            long calls = 0, usec = 0;
            foreach (var part in line[(colon + 1)..].Split(','))
            {
                var eq = part.IndexOf('=');
                if (eq < 0) continue;
                var key = part[..eq];
                var value = part[(eq + 1)..];
                if (key == "calls") calls = long.Parse(value, CultureInfo.InvariantCulture);
                else if (key == "usec") usec = long.Parse(value, CultureInfo.InvariantCulture);
            }
            result[name] = new CommandCounter(calls, usec);
        }
        return result;
    }

    public static Dictionary<string, CommandCounter> Delta(Dictionary<string, CommandCounter> before, Dictionary<string, CommandCounter> after)
    {
        var delta = new Dictionary<string, CommandCounter>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, a) in after)
        {
            if (Measurement.Contains(name)) continue;
            before.TryGetValue(name, out var b);
            var d = new CommandCounter(a.Calls - b.Calls, a.Usec - b.Usec);
            if (d.Calls > 0) delta[name] = d;
        }
        return delta;
    }
}
