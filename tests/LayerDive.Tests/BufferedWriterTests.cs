using System.Text;
using LayerDive.Cli;

namespace LayerDive.Tests;

/// <summary>The buffer ls writes its rows through passes on every character, in order, across its 32K boundary, and all of it when disposed.</summary>
public sealed class BufferedWriterTests
{
    [Fact]
    public void Passes_on_exactly_what_was_written()
    {
        var target = new StringWriter { NewLine = "\r\n" };
        var expected = new StringBuilder();
        var random = new Random(7);
        using (var w = new BufferedWriter(target))
        {
            for (int i = 0; i < 5000; i++)
            {
                var text = new string((char)('a' + i % 26), random.Next(0, 100));
                switch (i % 4)
                {
                    case 0: w.Write(text); expected.Append(text); break;
                    case 1: w.WriteLine(new StringBuilder(text)); expected.Append(text).Append("\r\n"); break;
                    case 2: w.Write('∂'); expected.Append('∂'); break;
                    default: w.Write(text.ToCharArray(), 0, text.Length); expected.Append(text); break;
                }
                if (i == 2500)
                {
                    var longer = new string('z', 70_000); // longer than the buffer itself
                    w.Write(longer);
                    expected.Append(longer);
                }
            }
            Assert.True(target.ToString().Length < expected.Length, "something stays in the buffer until the end");
        }
        Assert.Equal(expected.ToString(), target.ToString());
    }
}
