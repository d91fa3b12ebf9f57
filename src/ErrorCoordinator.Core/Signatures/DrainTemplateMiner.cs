namespace ErrorCoordinator.Core.Signatures;

/// <summary>One mined template: its stable id, its current template tokens and how many messages joined it.</summary>
public sealed class TemplateCluster
{
    internal TemplateCluster(string id, string partition, string[] tokens)
    {
        Id = id;
        Partition = partition;
        Tokens = tokens;
        Generalized = new bool[tokens.Length];
        Template = string.Join(' ', tokens);
    }

    /// <summary>Assigned when the cluster is created, from its first template; never recomputed.</summary>
    public string Id { get; }
    public string Partition { get; }
    public string Template { get; private set; }
    public long Size { get; internal set; }
    internal string[] Tokens { get; }
    internal bool[] Generalized { get; }
    internal List<TemplateCluster>? Leaf { get; set; }
    internal LinkedListNode<TemplateCluster>? Lru { get; set; }

    internal void Refresh() => Template = string.Join(' ', Tokens);
}

/// <summary>The outcome of one message: the cluster it joined and whether it started it.</summary>
public readonly record struct TemplateMatch(string GroupId, string Template, bool IsNew);

/// <summary>
/// Online template mining in the Drain family (He et al., ICWS 2017): a fixed-depth prefix tree routes a
/// message by its partition (the error type) and token count, then by its first <c>Depth - 2</c> tokens
/// (tokens with digits or placeholders share the <c>&lt;*&gt;</c> branch); in the leaf the most similar
/// template wins when its similarity reaches the threshold, and the positions that differ become
/// <c>&lt;*&gt;</c>. Otherwise the message starts a new template.
/// <para>Differences from plain Drain: the similarity (see <see cref="Similarity"/>) leaves out positions where
/// both sides hold a normalizer placeholder, so a message that is mostly values still finds its template; it
/// weighs a differing plain word more than a differing id-like token; and on a tie the more specific template
/// (fewer generalised positions) wins. Group ids are fixed when a cluster is created (a stable hash of the partition and the first
/// template) and do not change as the template generalises. The number of templates is capped; beyond it the
/// least recently used template is evicted. Deterministic: the same messages in the same order give the same
/// clusters and ids. Thread-safe (one lock; callers normalize outside it).</para>
/// </summary>
public sealed class DrainTemplateMiner
{
    private const string Wildcard = MessageNormalizer.Placeholder;

    private sealed class Node
    {
        public Dictionary<string, Node>? Children;
        public List<TemplateCluster>? Clusters;
    }

    private readonly Dictionary<(string Partition, int Length), Node> _roots = new();
    private readonly LinkedList<TemplateCluster> _lru = new();
    private readonly Lock _gate = new();
    private readonly double _threshold;
    private readonly double _wordWeight;
    private readonly int _prefixDepth;
    private readonly int _maxChildren;
    private readonly int _maxClusters;

    public DrainTemplateMiner(double similarityThreshold = SignatureDefaults.SimilarityThreshold, int depth = SignatureDefaults.Depth,
        int maxChildren = SignatureDefaults.MaxChildren, int maxClusters = SignatureDefaults.MaxTemplates,
        double wordMismatchWeight = SignatureDefaults.WordMismatchWeight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 3);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxClusters, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChildren, 2);
        if (similarityThreshold is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(similarityThreshold));
        ArgumentOutOfRangeException.ThrowIfLessThan(wordMismatchWeight, 1);
        _threshold = similarityThreshold;
        _wordWeight = wordMismatchWeight;
        _prefixDepth = depth - 2;
        _maxChildren = maxChildren;
        _maxClusters = maxClusters;
    }

    /// <summary>Templates held now.</summary>
    public int Count
    {
        get { lock (_gate) return _lru.Count; }
    }

    /// <summary>Templates held now, most recently used first.</summary>
    public IReadOnlyList<TemplateCluster> Clusters
    {
        get { lock (_gate) return [.. _lru]; }
    }

    /// <summary>Adds one normalized message (its tokens) to the partition and returns the cluster it joined.</summary>
    public TemplateMatch Add(string partition, IReadOnlyList<string> tokens)
    {
        lock (_gate)
        {
            var leaf = FindLeaf(partition, tokens);
            var best = Best(leaf, tokens);
            if (best is not null)
            {
                var changed = false;
                var t = best.Tokens;
                for (var i = 0; i < t.Length; i++)
                {
                    if (best.Generalized[i] || string.Equals(t[i], tokens[i], StringComparison.Ordinal)) continue;
                    t[i] = Wildcard;
                    best.Generalized[i] = true;
                    changed = true;
                }
                if (changed) best.Refresh();
                best.Size++;
                Touch(best);
                return new TemplateMatch(best.Id, best.Template, false);
            }

            var copy = new string[tokens.Count];
            for (var i = 0; i < copy.Length; i++) copy[i] = tokens[i];
            var cluster = new TemplateCluster(GroupIds.FromParts("template", partition, string.Join(' ', copy)), partition, copy) { Size = 1 };
            if (_lru.Count >= _maxClusters) Evict();
            cluster.Leaf = leaf;
            leaf.Add(cluster);
            cluster.Lru = _lru.AddFirst(cluster);
            return new TemplateMatch(cluster.Id, cluster.Template, true);
        }
    }

    private List<TemplateCluster> FindLeaf(string partition, IReadOnlyList<string> tokens)
    {
        var key = (partition, tokens.Count);
        if (!_roots.TryGetValue(key, out var node)) _roots[key] = node = new Node();
        var depth = Math.Min(_prefixDepth, tokens.Count);
        for (var d = 0; d < depth; d++)
        {
            node.Children ??= new Dictionary<string, Node>(StringComparer.Ordinal);
            var token = tokens[d];
            if (!node.Children.TryGetValue(token, out var next))
            {
                var branch = IsVariable(token) || node.Children.Count >= _maxChildren ? Wildcard : token;
                if (!node.Children.TryGetValue(branch, out next)) node.Children[branch] = next = new Node();
            }
            node = next;
        }
        return node.Clusters ??= [];
    }

    private static bool IsVariable(string token) => token.Contains(Wildcard, StringComparison.Ordinal) || token.AsSpan().IndexOfAnyInRange('0', '9') >= 0;

    private TemplateCluster? Best(List<TemplateCluster> leaf, IReadOnlyList<string> tokens)
    {
        TemplateCluster? best = null;
        double bestSim = -1;
        var bestParams = int.MaxValue;
        foreach (var cluster in leaf)
        {
            var (sim, parameters) = Similarity(cluster, tokens);
            if (sim > bestSim || (sim == bestSim && parameters < bestParams))
            {
                best = cluster;
                bestSim = sim;
                bestParams = parameters;
            }
        }
        return bestSim >= _threshold ? best : null;
    }

    /// <summary>
    /// The share of positions that agree, over the positions where the message has constant text (a position where
    /// both have a placeholder agrees and is counted). An empty message agrees with an empty template.
    /// </summary>
    /// <summary>
    /// The similarity of a message to a template: agreeing positions over agreeing plus differing ones, where a
    /// position the template has generalised agrees with anything, a position where both have a normalizer
    /// placeholder is left out (it says nothing about the template), and two differing plain words (letters,
    /// <c>_</c> and <c>-</c>, no digits) weigh the configured word-mismatch weight in differing tokens: variables mostly carry
    /// digits or symbols, words are mostly template text.
    /// </summary>
    internal (double Similarity, int Parameters) Similarity(TemplateCluster cluster, IReadOnlyList<string> tokens) =>
        Similarity(cluster.Tokens, cluster.Generalized, tokens);

    /// <inheritdoc cref="Similarity(TemplateCluster, IReadOnlyList{string})"/>
    internal (double Similarity, int Parameters) Similarity(string[] template, bool[] generalized, IReadOnlyList<string> tokens)
    {
        double same = 0, differ = 0;
        var parameters = 0;
        for (var i = 0; i < template.Length; i++)
        {
            if (generalized[i])
            {
                parameters++;
                same++;
                continue;
            }
            var t = template[i];
            var m = tokens[i];
            if (string.Equals(t, m, StringComparison.Ordinal))
            {
                if (!ReferenceEquals(m, Wildcard)) same++;
                continue;
            }
            differ += IsWord(t) && IsWord(m) ? _wordWeight : 1;
        }
        return (same + differ == 0 ? 1 : same / (same + differ), parameters);
    }

    private static bool IsWord(string token)
    {
        var end = token.Length;
        while (end > 0 && token[end - 1] is '.' or ',' or ':' or ';' or '!' or '?') end--;
        if (end == 0) return false;
        if (!char.IsLetter(token[0])) return false;
        for (var i = 1; i < end; i++) if (!(char.IsLetter(token[i]) || token[i] is '_' or '-')) return false;
        return true;
    }

    private static bool HasDigitOrPlaceholder(string token) => token.AsSpan().IndexOfAnyInRange('0', '9') >= 0 || token.Contains(Wildcard, StringComparison.Ordinal);

    private void Touch(TemplateCluster cluster)
    {
        var node = cluster.Lru!;
        if (node.Previous is null) return;
        _lru.Remove(node);
        _lru.AddFirst(node);
    }

    private void Evict()
    {
        var last = _lru.Last!;
        _lru.RemoveLast();
        last.Value.Leaf?.Remove(last.Value);
        last.Value.Leaf = null;
        last.Value.Lru = null;
    }
}
