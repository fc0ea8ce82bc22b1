"""Name pools for the generated parts of the world: towns for clubs, people for squads and benches.

Names carry diacritics on purpose (Müller, Ødegaard-like spellings): afc must store them intact.
"""

from __future__ import annotations

import random

# league country -> (towns, club name patterns)
CLUB_TOWNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "England": (
        ("Ashford", "Kingsbridge", "Whitby", "Harrogate", "Kendal", "Bexhill", "Tiverton", "Lowestoft", "Alnwick",
         "Ludlow", "Thirsk", "Penrith", "Hexham", "Frome", "Bridport", "Malton", "Helston", "Marlow"),
        ("{} United", "{} Town", "{} Rovers", "{} City", "{} Athletic", "{} Albion", "{} Wanderers"),
    ),
    "Spain": (
        ("Alcalá", "Lorca", "Ronda", "Teruel", "Soria", "Úbeda", "Zamora", "Cuenca", "Jaca", "Mérida", "Ávila",
         "Linares", "Écija", "Tarazona", "Plasencia", "Manresa", "Calahorra", "Gandía"),
        ("CD {}", "Real {}", "UD {}", "{} CF", "SD {}", "Atlético {}"),
    ),
    "Italy": (
        ("Asti", "Fano", "Rieti", "Viterbo", "Chieti", "Imola", "Lucca", "Aosta", "Matera", "Trani", "Sanremo",
         "Gubbio", "Urbino", "Ragusa", "Nuoro", "Cuneo", "Bassano", "Siena"),
        ("{}", "AC {}", "US {}", "{} Calcio", "Virtus {}", "FC {}"),
    ),
    "Germany": (
        ("Husum", "Celle", "Goslar", "Lindau", "Fulda", "Coburg", "Passau", "Wetzlar", "Siegen", "Plauen",
         "Bautzen", "Emden", "Lörrach", "Hameln", "Zwickau", "Kempten", "Landshut", "Weiden"),
        ("SV {}", "FC {}", "VfL {}", "1. FC {}", "SpVgg {}", "TSV {}", "Eintracht {}", "Borussia {}"),
    ),
    "France": (
        ("Vannes", "Dole", "Millau", "Sète", "Agen", "Blois", "Cognac", "Épinal", "Vichy", "Autun", "Dax",
         "Laval", "Niort", "Rodez", "Saintes", "Chartres", "Arles", "Albi"),
        ("{} FC", "Stade {}", "AS {}", "FC {}", "US {}", "Olympique {}", "SC {}"),
    ),
    "Netherlands": (
        ("Assen", "Hoorn", "Gouda", "Delft", "Zutphen", "Kampen", "Harderwijk", "Veendam", "Tiel", "Weert",
         "Sneek", "Goes", "Venray", "Katwijk", "Schiedam", "Bussum", "Leerdam", "Emmen"),
        ("FC {}", "SC {}", "VV {}", "{} United", "SV {}", "Sparta {}"),
    ),
    "Belgium": (
        ("Aalst", "Lier", "Mons", "Tienen", "Ninove", "Dinant", "Ieper", "Geel", "Bastogne", "Tongeren",
         "Lokeren", "Diest", "Knokke", "Waregem", "Arlon", "Hasselt", "Halle", "Wavre"),
        ("KV {}", "RFC {}", "Sporting {}", "KSK {}", "Royal {}", "SK {}", "Racing {}"),
    ),
}

# nationality -> (first names, last names, birth places)
PEOPLE: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "England": (
        ("Jack", "Harry", "Oliver", "George", "James", "Charlie", "Thomas", "Jordan", "Mason", "Reece", "Callum",
         "Declan", "Jude", "Kieran", "Marcus", "Ben"),
        ("Walker", "Wright", "Robinson", "Thompson", "Hughes", "Clarke", "Baker", "Hall", "Cole", "Shaw", "Mount",
         "Pope", "Stones", "Kane", "Bellamy", "Fletcher", "Barnes", "Lowe"),
        ("London", "Manchester", "Leeds", "Bristol", "Sheffield", "Liverpool", "Newcastle", "Nottingham"),
    ),
    "Spain": (
        ("Pablo", "Sergio", "Álvaro", "Iker", "Dani", "Raúl", "Jorge", "Marcos", "Adrián", "Rodrigo", "Unai",
         "Íñigo", "Fermín", "Gonzalo", "Mikel", "Aitor"),
        ("García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Ruiz", "Hernández", "Jiménez", "Muñoz",
         "Navarro", "Torres", "Domínguez", "Vázquez", "Ibáñez", "Zubimendi", "Oyarzabal", "Merino"),
        ("Madrid", "Sevilla", "Valencia", "Bilbao", "Málaga", "Zaragoza", "Gijón", "Vigo"),
    ),
    "Italy": (
        ("Lorenzo", "Federico", "Alessandro", "Matteo", "Nicolò", "Davide", "Giacomo", "Andrea", "Riccardo",
         "Gianluca", "Sandro", "Manuel", "Simone", "Pietro"),
        ("Rossi", "Bianchi", "Romano", "Ricci", "Esposito", "Barella", "Colombo", "Bruno", "Gallo", "Conti",
         "De Luca", "Mancini", "Costa", "Greco", "Lombardi", "Moretti"),
        ("Roma", "Milano", "Napoli", "Torino", "Firenze", "Bologna", "Genova", "Bari"),
    ),
    "Germany": (
        ("Lukas", "Leon", "Jonas", "Florian", "Niklas", "Maximilian", "Felix", "Kai", "Leroy", "Joshua", "Timo",
         "Jamal", "Robin", "Julian"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann", "Schäfer", "Koch",
         "Krämer", "Wirtz", "Günther", "Vogel", "Brandt", "Süle"),
        ("Berlin", "Hamburg", "München", "Köln", "Frankfurt", "Stuttgart", "Düsseldorf", "Bremen"),
    ),
    "France": (
        ("Antoine", "Kylian", "Ousmane", "Théo", "Lucas", "Hugo", "Aurélien", "Benjamin", "Raphaël", "Jules",
         "Mattéo", "Randal", "Adrien", "Warren"),
        ("Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Fontaine", "Mercier",
         "Rousseau", "Lemoine", "Faure", "Chevalier", "Gauthier", "Boucher", "Thérèse"),
        ("Paris", "Marseille", "Lyon", "Toulouse", "Nice", "Nantes", "Bordeaux", "Lille"),
    ),
    "Netherlands": (
        ("Daan", "Sem", "Lucas", "Milan", "Thijs", "Jurriën", "Xavi", "Ryan", "Teun", "Joey", "Stefan", "Wout"),
        ("de Jong", "Jansen", "de Vries", "van Dijk", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder",
         "Bosch", "Vos", "Timber", "Kluivert", "van den Berg", "Dekker"),
        ("Amsterdam", "Rotterdam", "Utrecht", "Eindhoven", "Groningen", "Tilburg"),
    ),
    "Belgium": (
        ("Arthur", "Noah", "Jules", "Louis", "Victor", "Kevin", "Axel", "Youri", "Leandro", "Thibaut", "Dries",
         "Hans"),
        ("Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters",
         "De Smet", "Vermeulen", "Lambert", "Dupont", "Tielemans"),
        ("Brussel", "Antwerpen", "Gent", "Liège", "Brugge", "Charleroi"),
    ),
    "Brazil": (
        ("Gabriel", "Lucas", "Matheus", "Vinícius", "João", "Rodrygo", "Éder", "Bruno", "Rafael", "Thiago"),
        ("Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Ferreira", "Alves", "Ribeiro", "Gonçalves"),
        ("São Paulo", "Rio de Janeiro", "Salvador", "Belo Horizonte", "Recife"),
    ),
    "Portugal": (
        ("João", "Rúben", "Bernardo", "Diogo", "Gonçalo", "Nuno", "Pedro", "Rafael"),
        ("Fernandes", "Cancelo", "Neves", "Dias", "Mendes", "Leão", "Félix", "Vitinha", "Semedo", "Inácio"),
        ("Lisboa", "Porto", "Braga", "Coimbra", "Funchal"),
    ),
    "Argentina": (
        ("Lautaro", "Enzo", "Julián", "Alexis", "Nicolás", "Leandro", "Emiliano", "Rodrigo"),
        ("Martínez", "Fernández", "Álvarez", "Mac Allister", "González", "Paredes", "De Paul", "Romero"),
        ("Buenos Aires", "Rosario", "Córdoba", "Mendoza"),
    ),
    "Senegal": (
        ("Sadio", "Idrissa", "Kalidou", "Ismaïla", "Pape", "Nicolas", "Iliman"),
        ("Mané", "Gueye", "Koulibaly", "Sarr", "Diallo", "Ndiaye", "Mendy", "Diatta"),
        ("Dakar", "Thiès", "Ziguinchor", "Saint-Louis"),
    ),
    "Norway": (
        ("Erling", "Martin", "Sander", "Kristian", "Jørgen", "Oscar"),
        ("Haaland", "Ødegaard", "Berge", "Thorsby", "Strand Larsen", "Bobb", "Østigård"),
        ("Oslo", "Bergen", "Bryne", "Trondheim"),
    ),
    "Croatia": (
        ("Luka", "Mateo", "Joško", "Ivan", "Josip", "Marcelo"),
        ("Modrić", "Kovačić", "Gvardiol", "Perišić", "Stanišić", "Šutalo", "Brozović"),
        ("Zagreb", "Split", "Rijeka", "Osijek"),
    ),
}
FOREIGN = ("Brazil", "Portugal", "Argentina", "Senegal", "Norway", "Croatia", "France", "Spain", "Netherlands")

COACH_FIRST = ("Thomas", "Carlo", "Xabi", "Luis", "Mikel", "Roberto", "Julian", "Diego", "Arne", "Vincent",
               "Unai", "Simone", "Marco", "Erik", "Francesco", "Pep", "Ange", "Oliver")
COACH_LAST = ("Brenner", "Castellani", "Olmedo", "Van Houten", "Radović", "Lindqvist", "Morel", "Ferreira",
              "Hartmann", "De Backer", "Ruggiero", "Whitcombe", "Sandoval", "Kiefer", "Dumont", "Aalbers",
              "Petrović", "Quintana")


def person(rng: random.Random, nationality: str) -> tuple[str, str, str]:
    """A first name, last name and birth place typical of `nationality`."""
    first, last, places = PEOPLE.get(nationality, PEOPLE["England"])
    return rng.choice(first), rng.choice(last), rng.choice(places)


def club_names(rng: random.Random, country: str, count: int) -> list[tuple[str, str]]:
    """`count` generated (club name, town) pairs for a league in `country`, one club per town."""
    towns, patterns = CLUB_TOWNS[country]
    return [(rng.choice(patterns).format(town), town) for town in rng.sample(towns, count)]
