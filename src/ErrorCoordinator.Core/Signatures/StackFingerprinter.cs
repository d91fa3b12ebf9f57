namespace ErrorCoordinator.Core.Signatures;

/// <summary>One stack frame as the fingerprint sees it: where (module) and what (function), never the line.</summary>
public readonly record struct StackFrame(string Module, string Function, bool InApp)
{
    public override string ToString() => Module.Length == 0 ? Function : $"{Module}:{Function}";
}

/// <summary>
/// Parses stack traces in the common formats and picks the frames a fingerprint uses: the top in-app frames,
/// innermost (most recent call) first, as module and function without line or column numbers, offsets or
/// addresses. Formats: Python (<c>File "x.py", line 3, in f</c>; innermost last, so reversed), Java and Kotlin
/// (<c>at a.b.C.m(C.java:12)</c>), .NET (<c>at N.C.M(args) in f.cs:line 9</c>), JavaScript/Node
/// (<c>at f (file.js:1:2)</c>, <c>at file.js:1:2</c>, and Firefox <c>f@file.js:1:2</c>), Go (<c>pkg.F(...)</c>
/// followed by a tab-indented <c>file.go:12 +0x1d</c>), Rust (<c>N: crate::m::f</c>, hash suffix dropped).
/// Not in-app, when in-app frames exist: site-packages, dist-packages and the Python standard library,
/// node_modules and <c>node:</c> internals, <c>java.*</c>, <c>javax.*</c>, <c>jdk.*</c>, <c>sun.*</c>,
/// <c>kotlin.*</c>, <c>System.*</c>, <c>Microsoft.*</c>, the Go runtime and standard library, Rust's
/// <c>std</c>/<c>core</c>/<c>alloc</c>.
/// </summary>
public static class StackFingerprinter
{
    private static readonly string[] JavaLibraryPrefixes =
        ["java.", "javax.", "jdk.", "sun.", "com.sun.", "kotlin.", "kotlinx.", "scala.", "org.junit.", "System.", "Microsoft.", "Windows."];

    private static readonly string[] RustLibraryPrefixes = ["std::", "core::", "alloc::", "<core::", "<alloc::", "<std::", "rust_begin_unwind", "__rust", "tokio::", "<tokio::"];

    /// <summary>Every frame parsed from <paramref name="stack"/>, innermost first.</summary>
    public static List<StackFrame> Parse(string stack)
    {
        var frames = new List<StackFrame>();
        var python = false;
        var lines = stack.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim().TrimEnd('\r');
            if (line.Length == 0) continue;
            if (TryPython(line, out var f)) { python = true; frames.Add(f); continue; }
            if (TryAt(line, out f)) { frames.Add(f); continue; }
            if (TryRust(line, out f)) { frames.Add(f); continue; }
            if (i + 1 < lines.Length && TryGo(line, lines[i + 1], out f)) { frames.Add(f); i++; continue; }
            if (TryFirefox(line, out f)) frames.Add(f);
        }
        if (python) frames.Reverse();
        return frames;
    }

    /// <summary>The fingerprint frames: the top <paramref name="max"/> in-app frames, or the top frames when none is in-app.</summary>
    public static IReadOnlyList<string> Fingerprint(string? stack, int max)
    {
        if (string.IsNullOrWhiteSpace(stack)) return [];
        var frames = Parse(stack);
        var inApp = frames.Where(f => f.InApp).ToList();
        var chosen = inApp.Count > 0 ? inApp : frames;
        return chosen.Take(max).Select(f => f.ToString()).ToList();
    }

    // File "/app/handlers/payment.py", line 42, in charge
    private static bool TryPython(string line, out StackFrame frame)
    {
        frame = default;
        if (!line.StartsWith("File \"", StringComparison.Ordinal)) return false;
        var end = line.IndexOf('"', 6);
        if (end < 0) return false;
        var path = line[6..end];
        var inAt = line.LastIndexOf(", in ", StringComparison.Ordinal);
        if (inAt < end) return false;
        var function = line[(inAt + 5)..].Trim();
        var normalized = path.Replace('\\', '/');
        var library = normalized.Contains("/site-packages/") || normalized.Contains("/dist-packages/") || normalized.StartsWith('<')
                      || normalized.Contains("/lib/python") || normalized.Contains("/Lib/") || normalized.Contains("importlib");
        frame = new StackFrame(PythonModule(normalized), function, !library);
        return true;
    }

    private static string PythonModule(string path)
    {
        foreach (var marker in new[] { "/site-packages/", "/dist-packages/" })
        {
            var at = path.LastIndexOf(marker, StringComparison.Ordinal);
            if (at >= 0) path = path[(at + marker.Length)..];
        }
        var name = path.EndsWith(".py", StringComparison.Ordinal) ? path[..^3] : path;
        // The last two path segments: stable across checkouts in different directories.
        var parts = name.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return string.Join('.', parts.Skip(Math.Max(0, parts.Length - 2)));
    }

    // Java: at com.acme.Payments.charge(Payments.java:42)      .NET: at Acme.Payments.Charge(Int32 x) in /src/P.cs:line 42
    // Node: at charge (/app/src/payments.js:10:5)   at async Payments.charge (file:///app/p.mjs:1:2)   at /app/x.js:1:2
    private static bool TryAt(string line, out StackFrame frame)
    {
        frame = default;
        if (!line.StartsWith("at ", StringComparison.Ordinal)) return false;
        var rest = line[3..].Trim();
        if (rest.StartsWith("async ", StringComparison.Ordinal)) rest = rest[6..];
        if (rest.StartsWith("new ", StringComparison.Ordinal)) rest = rest[4..];

        var paren = rest.IndexOf('(');
        if (paren < 0)
        {
            // Node without a function name: at /app/src/x.js:10:5 (a Rust "at src/x.rs:1:2" location is not a frame).
            var file = StripLineColumn(rest);
            if (!IsJsFile(file)) return false;
            frame = new StackFrame(JsModule(file), "<anonymous>", JsInApp(file));
            return true;
        }
        var head = rest[..paren].Trim();
        var alias = head.IndexOf(" [as ", StringComparison.Ordinal);
        if (alias > 0) head = head[..alias];
        var inside = rest[(paren + 1)..];
        var close = inside.LastIndexOf(')');
        if (close >= 0) inside = inside[..close];

        var looksJs = inside.Contains(".js", StringComparison.Ordinal) || inside.Contains(".ts", StringComparison.Ordinal)
                      || inside.Contains(".mjs", StringComparison.Ordinal) || inside.StartsWith("node:", StringComparison.Ordinal)
                      || inside.StartsWith("file://", StringComparison.Ordinal) || inside == "<anonymous>" || inside.Contains("webpack", StringComparison.Ordinal);
        if (looksJs && !head.Contains(' '))
        {
            var file = StripLineColumn(inside);
            frame = new StackFrame(JsModule(file), CleanFunction(head), JsInApp(file));
            return true;
        }

        // Java / .NET: qualified.Type.method
        var dot = head.LastIndexOf('.');
        if (dot <= 0) return false;
        var module = head[..dot];
        var function = head[(dot + 1)..];
        if (function.Length == 0 || module.Contains(' ')) return false;
        var inApp = !JavaLibraryPrefixes.Any(p => module.StartsWith(p, StringComparison.Ordinal) || module + "." == p);
        frame = new StackFrame(CleanFunction(module), CleanFunction(function), inApp);
        return true;
    }

    // Firefox / Safari: charge@https://app/p.js:10:5
    private static bool TryFirefox(string line, out StackFrame frame)
    {
        frame = default;
        var at = line.IndexOf('@');
        if (at < 0 || line.Contains(' ') || !(line.Contains(".js", StringComparison.Ordinal) || line.Contains(".ts", StringComparison.Ordinal))) return false;
        var file = StripLineColumn(line[(at + 1)..]);
        frame = new StackFrame(JsModule(file), at == 0 ? "<anonymous>" : CleanFunction(line[..at]), JsInApp(file));
        return true;
    }

    // Go: main.(*Server).handle(0xc000010000, {0x1, 0x2})
    //         /home/u/app/server.go:42 +0x1d
    private static bool TryGo(string line, string next, out StackFrame frame)
    {
        frame = default;
        var location = next.Trim();
        var colon = location.LastIndexOf(".go:", StringComparison.Ordinal);
        if (colon < 0 || !line.EndsWith(')')) return false;
        var paren = line.LastIndexOf('(');
        // Methods have a parenthesised receiver: take the argument list's opening parenthesis.
        var open = FindGoArgs(line);
        if (open <= 0 || paren < 0) return false;
        var qualified = line[..open];
        if (qualified.StartsWith("created by ", StringComparison.Ordinal)) qualified = qualified[11..];
        var slash = qualified.LastIndexOf('/');
        var dot = qualified.IndexOf('.', slash + 1);
        if (dot < 0) return false;
        var package = qualified[..dot];
        var function = qualified[(dot + 1)..];
        var firstSegment = package.Split('/')[0];
        var inApp = package == "main" || firstSegment.Contains('.');
        if (package is "runtime" || package.StartsWith("runtime/", StringComparison.Ordinal)) inApp = false;
        frame = new StackFrame(package, function, inApp);
        return true;
    }

    private static int FindGoArgs(string line)
    {
        // The last top-level '(' whose matching ')' ends the line.
        var depth = 0;
        for (var i = line.Length - 1; i >= 0; i--)
        {
            if (line[i] == ')') depth++;
            else if (line[i] == '(' && --depth == 0) return i;
        }
        return -1;
    }

    // Rust backtrace: "  12: myapp::db::connect::h3c1d7f5e9a2b4c6d" or "12: 0x55d0 - myapp::db::connect"
    private static bool TryRust(string line, out StackFrame frame)
    {
        frame = default;
        var colon = line.IndexOf(": ", StringComparison.Ordinal);
        if (colon <= 0 || line.AsSpan(0, colon).ContainsAnyExceptInRange('0', '9')) return false;
        var symbol = line[(colon + 2)..].Trim();
        var dash = symbol.IndexOf(" - ", StringComparison.Ordinal);
        if (dash >= 0) symbol = symbol[(dash + 3)..];
        if (!symbol.Contains("::", StringComparison.Ordinal)) return false;
        var hash = symbol.LastIndexOf("::h", StringComparison.Ordinal);
        if (hash > 0 && symbol.Length - hash - 3 == 16) symbol = symbol[..hash];
        var last = symbol.LastIndexOf("::", StringComparison.Ordinal);
        var module = symbol[..last];
        var function = symbol[(last + 2)..];
        var inApp = !RustLibraryPrefixes.Any(p => symbol.StartsWith(p, StringComparison.Ordinal));
        frame = new StackFrame(module, function, inApp);
        return true;
    }

    private static string StripLineColumn(string location)
    {
        var s = location.Trim();
        // Remove :line:column (one or two trailing numeric parts).
        for (var k = 0; k < 2; k++)
        {
            var c = s.LastIndexOf(':');
            if (c > 0 && c < s.Length - 1 && s.AsSpan(c + 1).IndexOfAnyExceptInRange('0', '9') < 0) s = s[..c];
        }
        return s;
    }

    private static string JsModule(string file)
    {
        var f = file.Replace('\\', '/');
        var nm = f.LastIndexOf("/node_modules/", StringComparison.Ordinal);
        if (nm >= 0) f = f[(nm + 14)..];
        var q = f.IndexOfAny(['?', '#']);
        if (q >= 0) f = f[..q];
        var parts = f.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return string.Join('/', parts.Skip(Math.Max(0, parts.Length - 2)));
    }

    private static bool IsJsFile(string file) =>
        file.StartsWith("node:", StringComparison.Ordinal) || file == "<anonymous>" || file.EndsWith(".js", StringComparison.Ordinal)
        || file.EndsWith(".mjs", StringComparison.Ordinal) || file.EndsWith(".cjs", StringComparison.Ordinal) || file.EndsWith(".ts", StringComparison.Ordinal)
        || file.EndsWith(".jsx", StringComparison.Ordinal) || file.EndsWith(".tsx", StringComparison.Ordinal);

    private static bool JsInApp(string file) =>
        !(file.Contains("node_modules", StringComparison.Ordinal) || file.StartsWith("node:", StringComparison.Ordinal)
          || file.StartsWith("internal/", StringComparison.Ordinal) || file == "<anonymous>" || file == "native");

    /// <summary>Generated names vary between builds: lambda and closure counters lose their digits.</summary>
    private static string CleanFunction(string name)
    {
        if (name.AsSpan().IndexOfAnyInRange('0', '9') < 0) return name;
        var sb = new System.Text.StringBuilder(name.Length);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsAsciiDigit(c) && i > 0 && (name[i - 1] is '$' or '_' or '<' || (sb.Length > 0 && sb[^1] == '#')))
            {
                while (i + 1 < name.Length && char.IsAsciiDigit(name[i + 1])) i++;
                sb.Append('#');
                continue;
            }
            sb.Append(c);
        }
        return sb.ToString();
    }
}
