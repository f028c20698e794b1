"""The product categories an applicant picks from, derived from NAICS sector 31-33 (Manufacturing).

Each category is a NAICS subsector (three digits) with its name in English and Spanish and the
everyday words buyers and makers use for its goods in both languages. Those words go into the
pool's search document, so a search for "camisetas" finds a business that wrote "t-shirts" and
picked Apparel, and "uniforms" finds one that wrote "uniformes".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Category:
    code: str  # the NAICS subsector, e.g. "315"
    en: str
    es: str
    words_en: str
    words_es: str

    def name(self, language: str) -> str:
        return self.es if language == "es" else self.en

    def search_words(self) -> str:
        return " ".join((self.en, self.es, self.words_en, self.words_es))


CATEGORIES: tuple[Category, ...] = (
    Category(
        "311",
        "Food",
        "Alimentos",
        "food bakery bread tortillas snacks sauces salsa meat dairy cheese candy spices frozen meals",
        "comida alimentos panadería pan tortillas botanas salsas carne lácteos queso dulces especias",
    ),
    Category(
        "312",
        "Beverages",
        "Bebidas",
        "beverages drinks coffee tea juice water soda beer wine",
        "bebidas café té jugos agua refrescos cerveza vino",
    ),
    Category(
        "313",
        "Fabric and yarn (textile mills)",
        "Telas e hilos (fábricas textiles)",
        "fabric textile yarn thread knit dyeing finishing",
        "tela telas textil hilo hilos tejido teñido acabado",
    ),
    Category(
        "314",
        "Textile products (linens, bags, curtains)",
        "Productos textiles (ropa de cama, bolsas, cortinas)",
        "linens towels sheets blankets bags tote curtains rugs canvas tents flags",
        "sábanas toallas cobijas mantas bolsas cortinas tapetes lona carpas banderas",
    ),
    Category(
        "315",
        "Clothing and apparel",
        "Ropa y prendas de vestir",
        "clothing apparel garments t-shirts shirts tshirts uniforms scrubs jackets pants dresses hats caps "
        "hoodies vests workwear sewing",
        "ropa prendas camisetas playeras camisas uniformes batas chaquetas chamarras pantalones vestidos "
        "gorras sudaderas chalecos costura",
    ),
    Category(
        "316",
        "Leather and footwear",
        "Cuero y calzado",
        "leather shoes boots footwear belts bags wallets",
        "cuero piel zapatos botas calzado cinturones bolsas carteras",
    ),
    Category(
        "321",
        "Wood products",
        "Productos de madera",
        "wood lumber pallets crates doors windows",
        "madera tarimas cajas puertas ventanas",
    ),
    Category(
        "322",
        "Paper and packaging",
        "Papel y empaques",
        "paper boxes cardboard packaging bags envelopes",
        "papel cajas cartón empaques bolsas sobres",
    ),
    Category(
        "323",
        "Printing",
        "Impresión",
        "printing printed signs labels posters brochures screen printing",
        "impresión imprenta letreros etiquetas carteles folletos serigrafía",
    ),
    Category(
        "324",
        "Petroleum and coal products",
        "Productos de petróleo y carbón",
        "asphalt lubricants oil fuel",
        "asfalto lubricantes aceite combustible",
    ),
    Category(
        "325",
        "Chemicals, soaps and cosmetics",
        "Químicos, jabones y cosméticos",
        "chemicals soap cleaning products detergent sanitizer disinfectant cosmetics paint ink",
        "químicos jabón productos de limpieza detergente desinfectante gel cosméticos pintura tinta",
    ),
    Category(
        "326",
        "Plastics and rubber",
        "Plástico y hule",
        "plastic plastics rubber containers bottles bags foam",
        "plástico plásticos hule caucho envases botellas bolsas espuma",
    ),
    Category(
        "327",
        "Glass, ceramics, stone and concrete",
        "Vidrio, cerámica, piedra y concreto",
        "glass ceramics pottery tiles concrete cement stone",
        "vidrio cerámica alfarería azulejos concreto cemento piedra",
    ),
    Category(
        "331",
        "Metals (casting, foundries)",
        "Metales (fundición)",
        "metal steel aluminum casting foundry",
        "metal acero aluminio fundición",
    ),
    Category(
        "332",
        "Metal products and fabrication",
        "Productos de metal y herrería",
        "metal fabrication welding parts hardware tools fences gates racks machining",
        "metal herrería soldadura piezas ferretería herramientas rejas portones estantes maquinado",
    ),
    Category(
        "333",
        "Machinery",
        "Maquinaria",
        "machinery machines equipment pumps",
        "maquinaria máquinas equipo bombas",
    ),
    Category(
        "334",
        "Computers and electronics",
        "Computadoras y electrónica",
        "electronics computers circuit boards sensors",
        "electrónica computadoras tarjetas sensores",
    ),
    Category(
        "335",
        "Electrical equipment and lighting",
        "Equipo eléctrico e iluminación",
        "electrical lighting lamps batteries cables",
        "eléctrico iluminación lámparas baterías cables",
    ),
    Category(
        "336",
        "Vehicles and parts",
        "Vehículos y partes",
        "vehicles trucks buses parts trailers bicycles",
        "vehículos camiones autobuses partes remolques bicicletas",
    ),
    Category(
        "337",
        "Furniture",
        "Muebles",
        "furniture chairs desks tables cabinets shelves mattresses",
        "muebles sillas escritorios mesas gabinetes estantes colchones",
    ),
    Category(
        "339",
        "Other goods (medical supplies, signs, jewelry, toys)",
        "Otros productos (suministros médicos, letreros, joyería, juguetes)",
        "medical supplies masks gloves signs jewelry toys sporting goods",
        "suministros médicos cubrebocas guantes letreros joyería juguetes artículos deportivos",
    ),
)

BY_CODE = {category.code: category for category in CATEGORIES}


def category_for(code: str) -> Category | None:
    """The category of a code: a subsector ("315") or a longer NAICS code that starts with one."""
    return BY_CODE.get(code[:3]) if code else None


def options(language: str) -> list[tuple[str, str]]:
    """(code, name) pairs for the form's list, in NAICS order."""
    return [(category.code, category.name(language)) for category in CATEGORIES]
