using ErrorCoordinator.Core.Storage.InMemory;
using ErrorCoordinator.Testing.Contract;
using Microsoft.Extensions.Time.Testing;

namespace ErrorCoordinator.Redis.Tests.Contract;

/// <summary>The same contract against the embedded store, side by side with the Redis one.</summary>
public sealed class InMemoryErrorStoreContractTests : ErrorStoreContractTests
{
    protected override ValueTask<ErrorStoreHarness> CreateAsync(FakeTimeProvider time, string channelPrefix)
    {
        var bus = new InMemoryEventBus();
        return ValueTask.FromResult(new ErrorStoreHarness(new InMemoryErrorStore(bus, time), bus, time, channelPrefix));
    }
}
