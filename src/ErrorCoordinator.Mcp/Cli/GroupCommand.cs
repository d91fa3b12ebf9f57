using System.CommandLine;
using System.Text;
using ErrorCoordinator.Core.Hosting;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Signatures;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Mcp.Cli;

/// <summary>
/// <c>group</c>: reads messages from stdin, one per line, and prints one group id per line, in order. Uses the
/// server's configuration (appsettings.json, environment, <c>--set</c>), the same scrubbing and signature engine
/// and the embedded store, starting fresh each run. This is what <c>grouping-accuracy.py DIR -- COMMAND</c> drives.
/// </summary>
public static class GroupCommand
{
    public static Command Build(TextWriter stderr)
    {
        var engine = new Option<string>("--engine")
        {
            Description = "Signature engine: 'template' (template mining, the default) or 'seed' (the original design's digits-and-UUIDs signature).",
            DefaultValueFactory = _ => "template",
        };
        engine.AcceptOnlyFromAmong("template", "seed");
        var errorType = new Option<string>("--error-type")
        {
            Description = "Error type every message is reported under (groups never span error types). Default 'log'.",
            DefaultValueFactory = _ => "log",
        };
        var signature = new Option<bool>("--signature") { Description = "Print 'group_id<TAB>signature' instead of the group id alone." };
        var set = new Option<string[]>("--set")
        {
            Description = "Set any configuration value, e.g. --set ErrorCoordinator:Signatures:SimilarityThreshold=0.7. Repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("group", "Group messages read from stdin (one per line): prints one group id per line.")
        {
            engine, errorType, signature, set,
        };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(engine) ?? "template", parse.GetValue(errorType) ?? "log",
            parse.GetValue(signature), parse.GetValue(set) ?? [], stderr, ct));
        return command;
    }

    private static async Task<int> RunAsync(string engineName, string errorType, bool printSignature, string[] settings, TextWriter stderr, CancellationToken ct)
    {
        ServiceProvider provider;
        ErrorReportingService errors;
        try
        {
            // --engine wins over configuration; everything else is configured as the server is.
            provider = BuildServices([.. settings, $"{SignatureOptions.Section}:Engine={engineName}"]);
            errors = provider.GetRequiredService<ErrorReportingService>();
        }
        catch (Exception ex) when (ex is StartupException or OptionsValidationException or InvalidDataException or FormatException)
        {
            stderr.WriteLine($"ErrorCoordinator: {(ex is OptionsValidationException o ? "invalid configuration: " + string.Join("; ", o.Failures) : ex.Message)}");
            return 2;
        }

        await using (provider)
        {
            // Every line is reported as report_failure reports it (validation, scrubbing, signature, the embedded
            // store's template state), so the labels are the group ids the server would assign.
            using var input = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false), false, 1 << 16);
            await using var output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16) { AutoFlush = false };
            while (await input.ReadLineAsync(ct) is { } line)
            {
                string label, text;
                try
                {
                    var r = await errors.ReportAsync(new FailureReport { Agent = "cli", ErrorType = errorType, Message = line }, ct);
                    (label, text) = (r.GroupId, r.Signature);
                }
                catch (ValidationException ex)
                {
                    // An empty or oversized line still gets a line of output, so the output stays aligned with the input.
                    (label, text) = ("invalid", ex.Message);
                }
                output.Write(label);
                if (printSignature)
                {
                    output.Write('\t');
                    output.Write(text);
                }
                output.Write('\n');
            }
            await output.FlushAsync(ct);
        }
        return 0;
    }

    private static ServiceProvider BuildServices(string[] settings)
    {
        var overrides = new Dictionary<string, string?>();
        foreach (var pair in settings)
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0) throw new StartupException($"--set expects KEY=VALUE; got '{pair}'.");
            overrides[pair[..eq].Trim()] = pair[(eq + 1)..];
        }
        var environment = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? "Production";
        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddJsonFile($"appsettings.{environment}.json", optional: true)
            .AddEnvironmentVariables()
            .AddInMemoryCollection(overrides)
            .Build();

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddErrorReporting(configuration);
        services.AddInMemoryStores();
        return services.BuildServiceProvider();
    }
}
