using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ErrorCoordinator.Core.Signatures;

/// <summary>How a <see cref="TemplateDecision"/> changes its bucket.</summary>
public enum TemplateChange
{
    /// <summary>The message joins a cluster whose template stays as it is; the bucket's version does not change.</summary>
    Join,
    /// <summary>The message joins a cluster and generalises its template (new data, new version).</summary>
    Update,
    /// <summary>The message starts a new cluster (new data, new version); the store may evict the bucket's least recently used cluster.</summary>
    Create,
}

/// <summary>
/// A template assignment proposed against a replica of one bucket (a leaf of the miner's tree: error type,
/// token count and leading tokens). The store applies it atomically with the report only when the bucket's
/// version is still <see cref="ExpectedVersion"/> (and, for a join, the cluster is still there); otherwise it
/// writes nothing and answers the bucket's current contents (<see cref="RecordOutcome.Conflict"/>).
/// </summary>
/// <param name="BucketKey">Stable hash of the bucket's route; the store's key for it.</param>
/// <param name="ExpectedVersion">The version the proposal was computed against; empty for a bucket not seen yet.</param>
/// <param name="NewVersion">The bucket's version after the change (equal to the expected one for a join).</param>
/// <param name="ClusterId">The cluster joined or created (its group id).</param>
/// <param name="ClusterData">The cluster's template after the change (encoded); null for a plain join.</param>
/// <param name="MaxClusters">Clusters a bucket keeps; beyond it the least recently used one is evicted.</param>
public sealed record TemplateDecision(string BucketKey, string ExpectedVersion, string NewVersion, TemplateChange Change,
    string ClusterId, string? ClusterData, int MaxClusters);

/// <summary>A bucket as the store holds it: its version (empty when absent) and cluster id to encoded template.</summary>
public sealed record TemplateBucketSnapshot(string Version, IReadOnlyDictionary<string, string> Clusters)
{
    public static readonly TemplateBucketSnapshot Empty = new("", new Dictionary<string, string>());
}

/// <summary>
/// This process's replica of template buckets, for a store that holds the source of truth. <see cref="Propose"/>
/// routes a message to its bucket and computes the assignment from the replica without changing it;
/// <see cref="Accept"/> applies an assignment the store accepted; <see cref="Refresh"/> replaces a bucket with the
/// store's contents after a conflict. Routing: the error type, the token count and the first <c>Depth - 2</c>
/// tokens (a token with a digit or a placeholder routes as <c>&lt;*&gt;</c>), as in <see cref="DrainTemplateMiner"/>,
/// but without the per-node child cap, whose outcome would depend on this process's history. Within a bucket the
/// most similar cluster wins (ties: fewer generalised positions, then the smaller id), so every process with the
/// same bucket contents makes the same choice. The replica holds at most <c>maxTemplates</c> clusters; beyond it
/// the least recently used bucket is dropped (it is fetched again from the store on its next conflict).
/// Thread-safe.
/// </summary>
public sealed class TemplateReplica
{
    private const string Wildcard = MessageNormalizer.Placeholder;

    private sealed class Cluster(string id, string[] tokens, bool[] generalized)
    {
        public readonly string Id = id;
        public readonly string[] Tokens = tokens;
        public readonly bool[] Generalized = generalized;
    }

    private sealed class Bucket(string key)
    {
        public readonly string Key = key;
        public string Version = "";
        public readonly List<Cluster> Clusters = [];
        public LinkedListNode<string>? Lru;
    }

    private readonly Dictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _lru = new();
    private readonly Lock _gate = new();
    private readonly DrainTemplateMiner _similarity;
    private readonly double _threshold;
    private readonly int _prefixDepth;
    private readonly int _maxTemplates;
    private readonly int _maxPerBucket;
    private int _clusterCount;

    public TemplateReplica(double similarityThreshold = SignatureDefaults.SimilarityThreshold, int depth = SignatureDefaults.Depth,
        int maxTemplates = SignatureDefaults.MaxTemplates, double wordMismatchWeight = SignatureDefaults.WordMismatchWeight,
        int maxTemplatesPerBucket = SignatureDefaults.MaxTemplatesPerBucket)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTemplatesPerBucket, 1);
        _similarity = new DrainTemplateMiner(similarityThreshold, depth, SignatureDefaults.MaxChildren, maxTemplates, wordMismatchWeight);
        _threshold = similarityThreshold;
        _prefixDepth = depth - 2;
        _maxTemplates = maxTemplates;
        _maxPerBucket = maxTemplatesPerBucket;
    }

    /// <summary>Clusters held now (all buckets).</summary>
    public int Count
    {
        get { lock (_gate) return _clusterCount; }
    }

    /// <summary>Buckets held now.</summary>
    public int BucketCount
    {
        get { lock (_gate) return _buckets.Count; }
    }

    /// <summary>The stable key of the bucket a message routes to: a hash of the error type, token count and route.</summary>
    public string BucketKeyOf(string partition, IReadOnlyList<string> tokens)
    {
        return KeyOf(Route(partition, tokens));
    }

    /// <summary>Computes the assignment of one normalized message from the replica; changes nothing.</summary>
    public (TemplateDecision Decision, string Template) Propose(string partition, IReadOnlyList<string> tokens)
    {
        var key = KeyOf(Route(partition, tokens));
        lock (_gate)
        {
            _buckets.TryGetValue(key, out var bucket);
            var version = bucket?.Version ?? "";
            var best = bucket is null ? null : Best(bucket, tokens);
            if (best is not null)
            {
                string[]? changed = null;
                bool[]? gen = null;
                for (var i = 0; i < best.Tokens.Length; i++)
                {
                    if (best.Generalized[i] || string.Equals(best.Tokens[i], tokens[i], StringComparison.Ordinal)) continue;
                    changed ??= (string[])best.Tokens.Clone();
                    gen ??= (bool[])best.Generalized.Clone();
                    changed[i] = Wildcard;
                    gen[i] = true;
                }
                if (changed is null)
                    return (new TemplateDecision(key, version, version, TemplateChange.Join, best.Id, null, _maxPerBucket), string.Join(' ', best.Tokens));
                return (new TemplateDecision(key, version, NewVersion(), TemplateChange.Update, best.Id, Encode(changed, gen!), _maxPerBucket),
                    string.Join(' ', changed));
            }
            var copy = new string[tokens.Count];
            for (var i = 0; i < copy.Length; i++) copy[i] = tokens[i];
            var template = string.Join(' ', copy);
            var id = GroupIds.FromParts("template", partition, template);
            return (new TemplateDecision(key, version, NewVersion(), TemplateChange.Create, id, Encode(copy, new bool[copy.Length]), _maxPerBucket), template);
        }
    }

    /// <summary>
    /// Applies a decision the store accepted (and the clusters it evicted doing so). When the replica's bucket has
    /// moved on meanwhile (another answer was applied first), the bucket is dropped and fetched again on its next conflict.
    /// </summary>
    public void Accept(TemplateDecision decision, IReadOnlyList<string>? evicted = null)
    {
        ArgumentNullException.ThrowIfNull(decision);
        lock (_gate)
        {
            var route = decision.BucketKey;
            _buckets.TryGetValue(route, out var bucket);
            if (decision.Change == TemplateChange.Join)
            {
                if (bucket is not null) Touch(bucket);
                return;
            }
            var current = bucket?.Version ?? "";
            if (!string.Equals(current, decision.ExpectedVersion, StringComparison.Ordinal))
            {
                if (bucket is not null) Drop(bucket);
                return;
            }
            if (bucket is null)
            {
                bucket = new Bucket(decision.BucketKey);
                _buckets[route] = bucket;
                bucket.Lru = _lru.AddFirst(route);
            }
            var (tokens, gen) = Decode(decision.ClusterData!);
            var index = bucket.Clusters.FindIndex(c => c.Id == decision.ClusterId);
            if (index >= 0) bucket.Clusters[index] = new Cluster(decision.ClusterId, tokens, gen);
            else
            {
                bucket.Clusters.Add(new Cluster(decision.ClusterId, tokens, gen));
                _clusterCount++;
            }
            if (evicted is not null)
                foreach (var id in evicted)
                    if (bucket.Clusters.RemoveAll(c => c.Id == id) > 0) _clusterCount--;
            bucket.Version = decision.NewVersion;
            Touch(bucket);
            Trim(bucket);
        }
    }

    /// <summary>Replaces the bucket <paramref name="bucketKey"/> with the store's contents (after a conflict).</summary>
    public void Refresh(string bucketKey, TemplateBucketSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        lock (_gate)
        {
            var route = bucketKey;
            if (_buckets.TryGetValue(route, out var old)) Drop(old);
            if (snapshot.Version.Length == 0) return;
            var bucket = new Bucket(bucketKey) { Version = snapshot.Version };
            foreach (var (id, data) in snapshot.Clusters)
            {
                var (tokens, gen) = Decode(data);
                bucket.Clusters.Add(new Cluster(id, tokens, gen));
            }
            _clusterCount += bucket.Clusters.Count;
            _buckets[route] = bucket;
            bucket.Lru = _lru.AddFirst(route);
            Trim(bucket);
        }
    }

    /// <summary>Encodes a template for the store: a JSON array of its tokens, a generalised position as null.</summary>
    public static string Encode(string[] tokens, bool[] generalized)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            for (var i = 0; i < tokens.Length; i++)
            {
                if (generalized[i]) w.WriteNullValue();
                else w.WriteStringValue(tokens[i]);
            }
            w.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Decodes <see cref="Encode"/>'s form.</summary>
    public static (string[] Tokens, bool[] Generalized) Decode(string data)
    {
        using var doc = JsonDocument.Parse(data);
        var n = doc.RootElement.GetArrayLength();
        var tokens = new string[n];
        var gen = new bool[n];
        var i = 0;
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            if (e.ValueKind == JsonValueKind.Null)
            {
                tokens[i] = Wildcard;
                gen[i] = true;
            }
            else tokens[i] = e.GetString() ?? "";
            i++;
        }
        return (tokens, gen);
    }

    private string Route(string partition, IReadOnlyList<string> tokens)
    {
        var sb = new StringBuilder(partition.Length + 64);
        sb.Append(partition).Append('\u001f').Append(tokens.Count);
        var depth = Math.Min(_prefixDepth, tokens.Count);
        for (var d = 0; d < depth; d++)
        {
            var t = tokens[d];
            sb.Append('\u001f').Append(IsVariable(t) ? Wildcard : t);
        }
        return sb.ToString();
    }

    private static string KeyOf(string route)
    {
        var bytes = Encoding.UTF8.GetBytes(route);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(bytes, hash);
        return "tb_" + Convert.ToHexStringLower(hash[..12]);
    }

    private static bool IsVariable(string token) => token.Contains(Wildcard, StringComparison.Ordinal) || token.AsSpan().IndexOfAnyInRange('0', '9') >= 0;

    private Cluster? Best(Bucket bucket, IReadOnlyList<string> tokens)
    {
        Cluster? best = null;
        double bestSim = -1;
        var bestParams = int.MaxValue;
        foreach (var c in bucket.Clusters)
        {
            var (sim, parameters) = _similarity.Similarity(c.Tokens, c.Generalized, tokens);
            if (sim > bestSim || (sim == bestSim && (parameters < bestParams || (parameters == bestParams && string.CompareOrdinal(c.Id, best!.Id) < 0))))
            {
                best = c;
                bestSim = sim;
                bestParams = parameters;
            }
        }
        return bestSim >= _threshold ? best : null;
    }

    private void Touch(Bucket bucket)
    {
        var node = bucket.Lru!;
        if (node.Previous is null) return;
        _lru.Remove(node);
        _lru.AddFirst(node);
    }

    private void Drop(Bucket bucket)
    {
        _lru.Remove(bucket.Lru!);
        _buckets.Remove(bucket.Lru!.Value);
        _clusterCount -= bucket.Clusters.Count;
    }

    private void Trim(Bucket keep)
    {
        while (_clusterCount > _maxTemplates && _lru.Last is { } last && !ReferenceEquals(_buckets[last.Value], keep))
            Drop(_buckets[last.Value]);
    }

    private static string NewVersion() => Guid.NewGuid().ToString("N")[..16];
}
