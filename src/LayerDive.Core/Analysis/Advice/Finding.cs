namespace LayerDive.Core.Analysis.Advice;

/// <summary>What a finding is about; the order is the order of precedence when bytes are claimed (see <see cref="Advisor"/>).</summary>
public enum AdviceKind
{
    /// <summary>A private key or credential stored in a layer (visible or deleted later: the layer still holds it).</summary>
    Secret,
    /// <summary>Content a later step changed only the metadata of (mode, owner, times), or wrote again unchanged: stored twice.</summary>
    CopiedUpUnchanged,
    /// <summary>Content a later step wrote again with other bytes: only the last counts.</summary>
    Rewritten,
    /// <summary>Content a later step deleted or hid (whiteout, opaque directory, a parent replaced).</summary>
    RemovedLater,
    /// <summary>A package manager's cache left in the layer that made it.</summary>
    PackageCache,
    /// <summary>Compilers, headers, static libraries, .git, tests of installed packages: needed to build, not to run.</summary>
    BuildOnly,
    /// <summary>The same content at several visible paths that are not hardlinks.</summary>
    Duplicate,
}

/// <summary>A layer a finding involves, with the Dockerfile line that made it.</summary>
public sealed record AdviceStep(int Layer, string Instruction, bool BaseImage);

/// <summary>One stored copy of a path that the finding would save; <see cref="SameAs"/> names the copy kept for a duplicate.</summary>
public sealed record AdvicePath(string Path, long Bytes, int Layer, string? SameAs = null);

/// <summary>
/// One piece of advice: the bytes it saves (stored, and estimated compressed from the layers' own
/// ratios when they are known), the steps involved, the paths (largest first; <see cref="PathCount"/>
/// counts them all), why, and the change to make (a Dockerfile snippet where one fits). A secret's
/// <see cref="RemovedIn"/> is the layer that deleted it, when one did.
/// </summary>
public sealed record Finding(
    AdviceKind Kind,
    string Rule,
    long Bytes,
    long? CompressedBytes,
    IReadOnlyList<AdviceStep> Steps,
    IReadOnlyList<AdvicePath> Paths,
    int PathCount,
    string Why,
    string Fix,
    int? RemovedIn = null)
{
    /// <summary>The bytes of the paths beyond those listed.</summary>
    public long MoreBytes => Bytes - Paths.Sum(p => p.Bytes);
}

/// <summary>Every finding, secrets first then by bytes saved; <see cref="TotalBytes"/> is their sum (no stored copy counts twice).</summary>
public sealed record AdviceResult(IReadOnlyList<Finding> Findings, long TotalBytes, long? TotalCompressedBytes, bool ContentChecked)
{
    /// <summary>The secrets found.</summary>
    public int Secrets => Findings.Count(f => f.Kind == AdviceKind.Secret);
}
