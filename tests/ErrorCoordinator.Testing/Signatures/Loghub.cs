using System.Text;

namespace ErrorCoordinator.Testing.Signatures;

/// <summary>One Loghub-2k dataset: its messages (the Content column) and their true template ids (EventId).</summary>
public sealed record LoghubDataset(string Name, IReadOnlyList<string> Messages, IReadOnlyList<string> Truth);

/// <summary>
/// The shared Loghub-2k datasets and LogPAI's grouping accuracy, for the quality-floor tests and the bench
/// (which compiles this file in; it depends on the base library only).
/// </summary>
public static class Loghub
{
    /// <summary>../shared/datasets/loghub-2k beside the repository (the folder holding ErrorCoordinator.Mcp.sln), or null.</summary>
    public static string? FindDatasets(params string[] startFolders)
    {
        foreach (var start in startFolders.Length > 0 ? startFolders : [AppContext.BaseDirectory])
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "ErrorCoordinator.Mcp.sln")))
                {
                    var folder = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "datasets", "loghub-2k"));
                    return Directory.Exists(folder) ? folder : null;
                }
        return null;
    }

    /// <summary>Every <c>*_structured.csv</c> in <paramref name="folder"/>, in name order.</summary>
    public static IReadOnlyList<LoghubDataset> Load(string folder) =>
        Directory.GetFiles(folder, "*_structured.csv").Order(StringComparer.Ordinal).Select(LoadFile).ToList();

    /// <summary>LogPAI GA: a message is correct when its predicted group holds exactly the messages of one true group.</summary>
    public static double GroupingAccuracy(IReadOnlyList<string> predicted, IReadOnlyList<string> truth)
    {
        var truthSize = truth.GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count());
        var correct = 0;
        foreach (var group in Enumerable.Range(0, predicted.Count).GroupBy(i => predicted[i]))
        {
            var kinds = group.Select(i => truth[i]).Distinct().ToList();
            if (kinds.Count == 1 && truthSize[kinds[0]] == group.Count()) correct += group.Count();
        }
        return (double)correct / truth.Count;
    }

    /// <summary>The Content (newlines as spaces, as the scorer sends them) and EventId columns of one file.</summary>
    public static LoghubDataset LoadFile(string path)
    {
        var rows = ParseCsv(File.ReadAllText(path, Encoding.UTF8));
        var header = rows[0];
        int content = header.IndexOf("Content"), eventId = header.IndexOf("EventId");
        if (content < 0 || eventId < 0) throw new InvalidDataException($"{path} has no Content or EventId column.");
        var messages = new List<string>();
        var truth = new List<string>();
        foreach (var row in rows.Skip(1))
        {
            if (row.Count <= Math.Max(content, eventId)) continue;
            messages.Add(row[content].Replace('\n', ' '));
            truth.Add(row[eventId]);
        }
        return new LoghubDataset(Path.GetFileName(path).Split('_')[0], messages, truth);
    }

    private static List<List<string>> ParseCsv(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c != '"') field.Append(c);
                else if (i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else quoted = false;
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { row.Add(field.ToString()); field.Clear(); }
            else if (c is '\n' or '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
                row.Add(field.ToString());
                field.Clear();
                rows.Add(row);
                row = [];
            }
            else field.Append(c);
        }
        if (field.Length > 0 || row.Count > 0)
        {
            row.Add(field.ToString());
            rows.Add(row);
        }
        return rows;
    }
}
