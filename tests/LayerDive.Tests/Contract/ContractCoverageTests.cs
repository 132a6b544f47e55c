using System.Reflection;
using LayerDive.Core.Sources;

namespace LayerDive.Tests;

/// <summary>Every kind of source runs the contract: a kind added to the catalog without a contract class fails here, by name.</summary>
public sealed class ContractCoverageTests
{
    private static readonly List<Type> Classes = typeof(SourceContract).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(SourceContract)) && !t.IsAbstract).ToList();

    [Fact]
    public void Every_contract_class_says_which_source_kinds_it_covers()
    {
        var catalog = SourceCatalog.All.Select(f => f.Kind).ToHashSet();
        var unmarked = Classes.Where(t => t.GetCustomAttribute<ContractForAttribute>() is null).Select(t => t.Name).ToList();
        Assert.True(unmarked.Count == 0, $"contract classes that do not say which source kind they cover, with [ContractFor(\"kind\")]: {string.Join(", ", unmarked)}");
        var unknown = Classes.SelectMany(t => (t.GetCustomAttribute<ContractForAttribute>()?.Kinds ?? []).Where(k => !catalog.Contains(k)).Select(k => $"{t.Name} ({k})")).ToList();
        Assert.True(unknown.Count == 0, $"contract classes that name a kind SourceCatalog.All does not have: {string.Join(", ", unknown)}");
    }

    [Fact]
    public void Every_source_kind_has_a_contract_class()
    {
        var covered = Classes.SelectMany(t => t.GetCustomAttribute<ContractForAttribute>()?.Kinds ?? []).ToHashSet();
        var missing = SourceCatalog.All.Select(f => f.Kind).Where(k => !covered.Contains(k)).ToList();
        Assert.True(missing.Count == 0,
            $"source kinds with no test class deriving from SourceContract: {string.Join(", ", missing)}; add a class with [ContractFor(\"{missing.FirstOrDefault()}\")] (README, \"Adding one thing\")");
    }
}
