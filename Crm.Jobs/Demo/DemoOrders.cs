using Bogus;
using Crm.Jobs.Orders;

namespace Crm.Jobs.Demo;

// Realistic Russian demo orders that give customers of every category: a few VIPs, regulars,
// customers who stopped buying half a year ago, and new ones; phones in the spellings shops
// really send, some orders without a name, a few without a usable phone.
public static class DemoOrders
{
    public static IEnumerable<OrderInput> Generate(int count, DateTimeOffset now, int seed = 20261125)
    {
        var random = new Randomizer(seed);
        var faker = new Faker("ru") { Random = random };
        var produced = 0;
        var customerNumber = 0;
        while (produced < count)
        {
            customerNumber++;
            var person = new Person("ru", seed + customerNumber);
            var digits = $"9{random.Number(10, 99)}{random.Number(1_000_000, 9_999_999)}";
            var city = faker.Address.City();
            var address = faker.Address.StreetAddress();
            var email = random.Bool(0.8f) ? $"client{customerNumber}@{faker.PickRandom("mail.ru", "yandex.ru", "gmail.com", "bk.ru")}" : "";

            var (orders, minDaysAgo, maxDaysAgo, minAmount, maxAmount) = random.Number(0, 99) switch
            {
                < 8 => (random.Number(10, 14), 1, 150, 3_000, 25_000),   // VIP by frequency
                < 12 => (random.Number(1, 3), 1, 120, 40_000, 90_000),    // VIP by spending
                < 40 => (random.Number(3, 7), 1, 170, 800, 9_000),       // regular
                < 55 => (random.Number(3, 6), 200, 400, 800, 12_000),    // inactive
                _ => (random.Number(1, 2), 1, 170, 500, 6_000),          // new
            };

            for (var i = 0; i < orders && produced < count; i++, produced++)
            {
                var status = random.Number(0, 99) switch
                {
                    < 85 => OrderStatus.Completed,
                    < 92 => OrderStatus.Cancelled,
                    < 96 => OrderStatus.Processing,
                    _ => OrderStatus.New,
                };
                yield return new OrderInput(
                    CustomerName: random.Bool(0.05f) ? "" : person.FullName,
                    CustomerPhone: random.Bool(0.01f) ? "не указан" : Spell(digits, random),
                    CustomerEmail: email,
                    DeliveryCity: city,
                    DeliveryAddress: address,
                    TotalAmount: Math.Round(random.Decimal(minAmount, maxAmount), 2),
                    Status: status,
                    CreatedAt: now.AddDays(-random.Double(minDaysAgo, maxDaysAgo)));
            }
        }
    }

    // "9161234567" as a Russian shop's form might have received it.
    private static string Spell(string d, Randomizer random) => random.Number(0, 4) switch
    {
        0 => $"+7{d}",
        1 => $"8 ({d[..3]}) {d[3..6]}-{d[6..8]}-{d[8..]}",
        2 => $"+7 {d[..3]} {d[3..6]} {d[6..8]} {d[8..]}",
        3 => d,
        _ => $"8{d}",
    };
}
