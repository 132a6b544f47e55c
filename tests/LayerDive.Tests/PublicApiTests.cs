using System.Reflection;
using LayerDive.Tests.Support;

namespace LayerDive.Tests;

/// <summary>
/// LayerDive.Core is internal by default: what a front end reads (the source seam, the load, the
/// model, the analyses and reports) is public, and pinned here. A change to it fails this test until
/// tests/LayerDive.Tests/Api/LayerDive.Core.txt says the same: the public surface changes on purpose only.
/// </summary>
public sealed class PublicApiTests
{
    private static readonly string Pinned = Path.Combine(Paths.RepoRoot, "tests", "LayerDive.Tests", "Api", "LayerDive.Core.txt");

    [Fact]
    public void The_public_surface_of_Core_is_the_pinned_one()
    {
        var actual = Surface(typeof(LayerDive.Core.ImageException).Assembly);
        var expected = File.Exists(Pinned) ? File.ReadAllLines(Pinned).Where(l => l.Length > 0).ToList() : [];
        var added = actual.Except(expected).ToList();
        var removed = expected.Except(actual).ToList();
        if (added.Count + removed.Count > 0)
        {
            var proposal = Path.Combine(Path.GetTempPath(), "LayerDive.Core.txt");
            File.WriteAllLines(proposal, actual);
            Assert.Fail($"the public API of LayerDive.Core changed: {added.Count} added, {removed.Count} removed "
                + $"(if meant, copy {proposal} to {Pinned})\n"
                + string.Join('\n', added.Take(20).Select(l => "+ " + l).Concat(removed.Take(20).Select(l => "- " + l))));
        }
    }

    /// <summary>One line per public type and per public or protected member, sorted.</summary>
    internal static List<string> Surface(Assembly assembly)
    {
        var lines = new List<string>();
        foreach (var t in assembly.GetExportedTypes())
        {
            lines.Add($"{Kind(t)} {t.FullName}");
            const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            foreach (var m in t.GetMembers(all))
            {
                bool visible = m switch
                {
                    MethodBase mb => (mb.IsPublic || mb.IsFamily || mb.IsFamilyOrAssembly) && !(mb.IsSpecialName && (mb.Name.StartsWith("get_", StringComparison.Ordinal) || mb.Name.StartsWith("set_", StringComparison.Ordinal) || mb.Name.StartsWith("add_", StringComparison.Ordinal) || mb.Name.StartsWith("remove_", StringComparison.Ordinal))),
                    FieldInfo f => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly,
                    PropertyInfo p => p.GetAccessors(nonPublic: true).Any(a => a.IsPublic || a.IsFamily),
                    EventInfo e => e.AddMethod is { IsPublic: true },
                    _ => false,
                };
                if (!visible || m.Name == "<Clone>$" || m.Name == "EqualityContract") continue;
                string text = m switch
                {
                    PropertyInfo p => $"{p.PropertyType} {p.Name} {{{string.Join(' ', p.GetAccessors().Select(a => a.Name[..3]).Order())}}}",
                    _ => m.ToString() ?? m.Name,
                };
                lines.Add($"  {t.FullName}::{text}");
            }
        }
        return lines.Order(StringComparer.Ordinal).ToList();
    }

    private static string Kind(Type t) => t.IsInterface ? "interface" : t.IsEnum ? "enum" : t.IsValueType ? "struct" : t.IsAbstract && t.IsSealed ? "static class" : "class";
}
