using ErrorCoordinator.Core.Retries;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Mcp.Hosting;

/// <summary>
/// The background sweep: every <see cref="RetryOptions.SweepInterval"/> it returns expired leases to the queue and trims
/// dead letters, so crashed workers' tasks come back even when nobody claims. Safe on every process (one atomic script).
/// </summary>
public sealed class RetrySweepService(RetryService retries, IOptions<RetryOptions> options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await retries.TrySweepAsync(stoppingToken);
        }
    }
}
