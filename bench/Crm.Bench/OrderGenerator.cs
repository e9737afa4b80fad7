namespace Crm.Bench;

// NormalizedPhone: the E.164 form the app stores for Phone (null for the unusable spellings),
// known from the digits the phone was spelled from, so the COPY floor parses nothing. The
// bench checks that the app's imports store the same (BenchDatabase.OrdersFingerprintAsync).
public readonly record struct GeneratedOrder(
    int PhoneIndex, string Name, string Phone, string Email, string City, string Address,
    decimal Amount, string Status, DateTime CreatedAt, string? NormalizedPhone);

// N orders over P phones, the same on every run and machine: order i is computed from (seed, i)
// alone, so any range of orders (an import chunk, the seed slice) can be produced on its own.
public sealed class OrderGenerator(int orders, int phones, DateTime now, ulong seed = 20261125)
{
    public int Orders { get; } = orders;
    public int Phones { get; } = phones;

    public GeneratedOrder this[int i]
    {
        get
        {
            var random = new SplitMix64(seed, (ulong)i);
            var phone = random.Next(Phones);
            var digits = Digits(phone);
            var person = new SplitMix64(seed ^ 0x5EED, (ulong)phone);

            // Per phone: one person, one city, one address; ~30% leave no email.
            var female = person.Next(2) == 0;
            var first = female ? FemaleNames[person.Next(FemaleNames.Length)] : MaleNames[person.Next(MaleNames.Length)];
            var last = LastNames[person.Next(LastNames.Length)] + (female ? "а" : "");
            var city = Cities[person.Next(Cities.Length)];
            var address = $"ул. {Streets[person.Next(Streets.Length)]}, д. {1 + person.Next(150)}, кв. {1 + person.Next(300)}";
            var email = person.Next(10) < 7 ? $"client{phone}@{Domains[person.Next(Domains.Length)]}" : "";

            // Per order: how the shop's form spelled the phone (~1% unusable), a missing name now and then.
            var usable = random.Next(100) != 0;
            var spelledPhone = usable ? Spell(digits, random.Next(4)) : Unusable[random.Next(Unusable.Length)];
            var name = random.Next(50) == 0 ? "" : $"{first} {last}";
            var roll = random.Next(100);
            var status = roll < 75 ? "completed" : roll < 85 ? "cancelled" : roll < 92 ? "processing" : "new";
            // 500 – 30 500 ₽, most orders small.
            var fraction = random.NextDouble();
            var amount = (50_000 + (long)(fraction * fraction * 3_000_000)) / 100m;
            var createdAt = now.AddSeconds(-DaysAgoInSeconds(random.NextDouble()));
            return new GeneratedOrder(phone, name, spelledPhone, email, city, address, amount, status, createdAt,
                usable ? "+7" + digits : null);
        }
    }

    // Spread over the 400 days before now, except 179–181 days ago: no customer crosses the
    // 180-day inactivity threshold while the bench runs (up to a day), so an unchanged re-sync
    // has truly nothing to write and only the bench's own 10% cross it.
    private static int DaysAgoInSeconds(double fraction)
    {
        const int day = 24 * 3600;
        var seconds = (int)(fraction * 398 * day);
        return seconds < 179 * day ? seconds : seconds + 2 * day;
    }

    // The phone index of order i, without building the rest of the order (for the slice filter).
    public int PhoneOf(int i) => new SplitMix64(seed, (ulong)i).Next(Phones);

    // "9xxxxxxxxx": a distinct ten-digit Russian mobile number per phone index (7919 is coprime to 10^9).
    private static string Digits(int phone) => (9_000_000_000L + (phone * 7919L + 1_234_567L) % 1_000_000_000L).ToString();

    private static string Spell(string d, int how) => how switch
    {
        0 => $"+7 {d[..3]} {d[3..6]}-{d[6..8]}-{d[8..]}",
        1 => $"8 ({d[..3]}) {d[3..6]}-{d[6..8]}-{d[8..]}",
        2 => d,
        _ => $"+7{d}",
    };

    private static readonly string[] Unusable = ["не указан", "", "12-34"];

    private static readonly string[] MaleNames =
    [
        "Александр", "Алексей", "Андрей", "Антон", "Артём", "Борис", "Вадим", "Валерий", "Василий", "Виктор",
        "Владимир", "Вячеслав", "Геннадий", "Георгий", "Григорий", "Даниил", "Денис", "Дмитрий", "Евгений", "Егор",
        "Иван", "Игорь", "Илья", "Кирилл", "Константин",
    ];

    private static readonly string[] FemaleNames =
    [
        "Алина", "Алла", "Анастасия", "Анна", "Валентина", "Валерия", "Вера", "Виктория", "Галина", "Дарья",
        "Евгения", "Екатерина", "Елена", "Елизавета", "Жанна", "Зоя", "Инна", "Ирина", "Ксения", "Лариса",
        "Людмила", "Марина", "Мария", "Надежда", "Наталья",
    ];

    // Masculine forms ending in -ов/-ев/-ин: the feminine form adds "а".
    private static readonly string[] LastNames =
    [
        "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков", "Фёдоров",
        "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев",
        "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев",
        "Романов", "Воробьёв", "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
        "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов",
    ];

    private static readonly string[] Cities =
    [
        "Москва", "Санкт-Петербург", "Новосибирск", "Екатеринбург", "Казань", "Нижний Новгород", "Челябинск",
        "Красноярск", "Самара", "Уфа", "Ростов-на-Дону", "Омск", "Краснодар", "Воронеж", "Пермь", "Волгоград",
        "Саратов", "Тюмень", "Тольятти", "Ижевск", "Барнаул", "Ульяновск", "Иркутск", "Хабаровск", "Ярославль",
        "Владивосток", "Махачкала", "Томск", "Оренбург", "Кемерово",
    ];

    private static readonly string[] Streets =
    [
        "Ленина", "Мира", "Советская", "Гагарина", "Пушкина", "Садовая", "Лесная", "Школьная", "Молодёжная", "Новая",
    ];

    private static readonly string[] Domains = ["mail.ru", "yandex.ru", "gmail.com", "bk.ru", "rambler.ru"];

    // SplitMix64: tiny, fast and defined by its constants, so the data never changes with the runtime.
    private struct SplitMix64(ulong seed, ulong stream)
    {
        private ulong _state = seed ^ (stream * 0x9E3779B97F4A7C15UL);

        private ulong NextULong()
        {
            var z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public int Next(int bound) => (int)(NextULong() % (ulong)bound);

        public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));
    }
}
