namespace Crm.Tests.Infrastructure;

// Phones for test data, "+7999" and seven digits (E.164, as the API stores them). The tests
// of a class share one database, so a phone comes from a counter, never equal to another of
// this test run; the counter starts at a random point, so phones stay unique across classes
// even when a test reruns in one process. It stays at +79992000000 and above: below that,
// tests spell out phones of their own.
public static class TestPhones
{
    private static int _last = Random.Shared.Next(2_000_000, 5_000_000);

    public static string New() => $"+7999{Interlocked.Increment(ref _last):D7}";

    // A new phone as a shop or an operator spells it, "8 (999) 123-45-67", and its E.164 form.
    public static (string Raw, string E164) NewSpelledWith8()
    {
        var e164 = New();
        return ($"8 ({e164[2..5]}) {e164[5..8]}-{e164[8..10]}-{e164[10..]}", e164);
    }
}
