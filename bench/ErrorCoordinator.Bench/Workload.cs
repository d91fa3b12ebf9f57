using System.Globalization;
using System.Text;
using ErrorCoordinator.Core.Errors;

namespace ErrorCoordinator.Bench;

/// <summary>
/// A deterministic pool of realistic, varied failure reports: a few hundred message templates whose numbers,
/// ids, hosts and paths change per report, a dozen agents, several components, some stacks, tags, codes and
/// (rarely) a secret the scrubber must remove. Built before any measurement; both implementations read the same pool.
/// </summary>
internal static class Workload
{
    private static readonly string[] Agents =
    [
        "coder-1", "coder-2", "coder-3", "reviewer-1", "reviewer-2", "tester-1", "tester-2",
        "trainer-gpu-0", "trainer-gpu-1", "planner", "deployer", "data-loader",
    ];

    private static readonly string[] Components =
    [
        "api-gateway", "auth", "billing", "scheduler", "trainer", "tokenizer", "storage", "search",
    ];

    private static readonly string[] Projects = ["atlas", "borealis", "cinder", "delta"];

    private static readonly string[] Resources =
    [
        "users", "orders", "invoices", "sessions", "embeddings", "checkpoints", "shards", "jobs", "models", "datasets",
    ];

    /// <summary>(error type, template). {n} number, {ms} duration, {id} uuid, {hex} hex id, {host} host, {path} path, {res} resource.</summary>
    private static readonly (string Type, string Template)[] Bases =
    [
        ("TimeoutError", "Request to {host}/v1/{res}/{n} timed out after {ms} ms"),
        ("TimeoutError", "Operation on {res} exceeded deadline of {ms}ms (attempt {n} of 5)"),
        ("NetworkError", "ECONNRESET while reading from {host}:{n}"),
        ("NetworkError", "connect ECONNREFUSED {host}:{n} for {res} sync"),
        ("ConnectionError", "Connection pool for {res} exhausted: {n} of {n} in use, waited {ms} ms"),
        ("OutOfMemoryError", "Java heap space while loading {res} batch {n} ({n} MB requested)"),
        ("CUDAError", "CUDA out of memory. Tried to allocate {n} MiB (GPU {n}; {n} GiB total capacity) while processing {res}"),
        ("ValueError", "invalid literal for int() with base 10: '{hex}' in {res} row {n}"),
        ("KeyError", "'{res}_{n}' not found in feature map"),
        ("TypeError", "Cannot read properties of undefined (reading '{res}') at step {n}"),
        ("PermissionError", "[Errno 13] Permission denied: '{path}'"),
        ("FileNotFoundError", "[Errno 2] No such file or directory: '{path}'"),
        ("RateLimitError", "429 Too Many Requests from {host}: retry after {n} s ({res})"),
        ("TemporaryError", "Lock on {res}:{id} held by another worker; retry {n}"),
        ("ValidationError", "Field '{res}.{n}' failed schema check: expected string, got number"),
        ("IntegrityError", "duplicate key value violates unique constraint \"{res}_pkey\" Key (id)=({n}) already exists"),
        ("AssertionError", "expected {n} {res} but found {n} in shard {hex}"),
        ("HTTPError", "HTTP 503 from {host}/v2/{res}/{id}: upstream unavailable"),
        ("DeadlockError", "Deadlock detected on {res} after {ms} ms; transaction {n} rolled back"),
        ("SerializationError", "Unexpected token at position {n} while parsing {res} payload {id}"),
        ("NaNLossError", "Loss became NaN at step {n} (lr={n}e-5, batch {n})"),
        ("CheckpointError", "Checkpoint {path} is corrupt: CRC mismatch at byte {n}"),
        ("AuthError", "Token for {res} expired {n} s ago (request {id})"),
        ("QuotaExceededError", "Quota for {res} exceeded: {n} of {n} units used in project {n}"),
        ("DiskFullError", "No space left on device writing {path} ({n} bytes)"),
        ("ProcessCrash", "worker {n} exited with signal 9 while handling {res} job {id}"),
        ("SchemaMismatch", "column {res}.{hex} type changed from int to text at version {n}"),
        ("DNSError", "getaddrinfo ENOTFOUND {host} (lookup {n} for {res})"),
        ("TLSHandshakeError", "certificate verify failed for {host}: expired {n} days ago"),
        ("GradientOverflow", "Gradient overflow at step {n}; skipping update, scale reduced to {n}"),
    ];

    private static readonly string[] Hosts =
    [
        "api.internal", "db-primary.prod", "cache-3.prod", "search.svc", "s3.eu-west-1.amazonaws.com", "vault.prod",
    ];

    private static readonly string[] Secrets =
    [
        " (Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U)",
        " password=hunter2 in DSN",
        " using postgres://svc:s3cr3tPa55@db-primary.prod:5432/app",
        " notify ops-team@example.com",
    ];

    public static FailureReport[] Build(int count, int seed = 42)
    {
        var random = new Random(seed);
        // A few hundred templates: every base template, specialised per resource (30 x 10 = 300).
        var templates = new List<(string Type, string Template)>(Bases.Length * Resources.Length);
        foreach (var (type, template) in Bases)
            foreach (var res in Resources)
                templates.Add((type, template.Replace("{res}", res, StringComparison.Ordinal)));

        var reports = new FailureReport[count];
        for (var i = 0; i < count; i++)
        {
            // Skewed: a few templates are hot, most are a long tail (like real error streams).
            var t = templates[(int)(Math.Pow(random.NextDouble(), 2.5) * templates.Count)];
            var message = Fill(t.Template, random);
            if (random.Next(40) == 0) message += Secrets[random.Next(Secrets.Length)];
            var component = random.Next(5) == 0 ? null : Components[random.Next(Components.Length)];
            var agent = Agents[random.Next(Agents.Length)];
            Dictionary<string, string>? tags = null;
            if (random.Next(10) < 4)
            {
                tags = new Dictionary<string, string>
                {
                    ["env"] = random.Next(4) == 0 ? "staging" : "prod",
                    ["region"] = random.Next(2) == 0 ? "eu-west-1" : "us-east-1",
                };
                if (random.Next(2) == 0) tags["build"] = "b" + random.Next(1000, 9999).ToString(CultureInfo.InvariantCulture);
            }
            reports[i] = new FailureReport
            {
                Agent = agent,
                ErrorType = t.Type,
                Message = message,
                TaskId = "task-" + random.Next(1, 50_000).ToString(CultureInfo.InvariantCulture),
                Project = Projects[random.Next(Projects.Length)],
                Component = component,
                Stack = random.Next(10) < 3 ? Stack(t.Type, component ?? "worker", random) : null,
                Code = random.Next(4) == 0 ? "E" + random.Next(100, 999).ToString(CultureInfo.InvariantCulture) : null,
                TraceId = random.Next(2) == 0 ? RandomGuid(random).ToString("N") : null,
                Tags = tags,
            };
        }
        return reports;
    }

    private static string Fill(string template, Random random)
    {
        var sb = new StringBuilder(template.Length + 32);
        var i = 0;
        while (i < template.Length)
        {
            if (template[i] == '{')
            {
                var end = template.IndexOf('}', i);
                var name = template.AsSpan(i + 1, end - i - 1);
                switch (name)
                {
                    case "n": sb.Append(random.Next(1, 100_000)); break;
                    case "ms": sb.Append(random.Next(100, 60_000)); break;
                    case "id": sb.Append(RandomGuid(random).ToString()); break;
                    case "hex": sb.Append(random.NextInt64(0x1000_0000, 0xFFFF_FFFF).ToString("x", CultureInfo.InvariantCulture)); break;
                    case "host": sb.Append(Hosts[random.Next(Hosts.Length)]); break;
                    case "path":
                        sb.Append("/data/").Append(Resources[random.Next(Resources.Length)]).Append('/')
                          .Append(random.Next(1, 10_000)).Append("/part-").Append(random.Next(0, 512).ToString("D5", CultureInfo.InvariantCulture)).Append(".parquet");
                        break;
                    default: sb.Append(name); break;
                }
                i = end + 1;
            }
            else sb.Append(template[i++]);
        }
        return sb.ToString();
    }

    private static Guid RandomGuid(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes);
    }

    private static string Stack(string type, string module, Random random)
    {
        var sb = new StringBuilder(512);
        sb.Append(type).Append(": see message\n");
        var frames = random.Next(4, 12);
        for (var f = 0; f < frames; f++)
            sb.Append("    at ").Append(module).Append('.').Append(Resources[random.Next(Resources.Length)]).Append(".handle")
              .Append(f).Append(" (/app/src/").Append(module).Append('/').Append(Resources[random.Next(Resources.Length)])
              .Append(".ts:").Append(random.Next(1, 900)).Append(':').Append(random.Next(1, 80)).Append(")\n");
        return sb.ToString();
    }
}
