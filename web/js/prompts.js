// "Inspire me": prompts written for Pixel Prompt, by category. Loaded on first use only.

const C = {
  'Nature and landscapes': [
    'A glacier-fed lake at first light, mist curling over mirror-still water',
    'Rolling lavender fields under a brewing thunderstorm, one lone cypress tree',
    'Moss-covered boulders in a rainforest stream, shafts of green light through the canopy',
    'A desert canyon at dusk, layered red rock glowing like embers',
    'Northern lights over a frozen fjord, a red cabin with a single lit window',
    'A wildflower meadow on the slope of a volcano, steam rising in the distance',
    'Tide pools at low tide reflecting pink clouds, starfish in the shallows',
    'An autumn birch forest in fog, yellow leaves drifting over a dirt path',
    'Salt flats after rain, the sky mirrored perfectly all the way to the horizon',
  ],
  'Cities and architecture': [
    'A rain-soaked side street at night, neon signs reflected in the puddles',
    'A brutalist library with hanging gardens spilling over concrete balconies',
    'Hillside rooftops at golden hour, a yellow tram climbing a steep cobbled street',
    'An abandoned Art Deco cinema reclaimed by ivy and slanting sunlight',
    'A floating market at dawn, wooden boats piled high with tropical fruit',
    'A tiny lighthouse keeper’s cottage on a rocky island, waves crashing below',
    'A glass greenhouse shaped like a cathedral, filled with giant ferns',
    'A narrow canal in winter fog, a lone rowing boat under a stone bridge',
    'A cosy bookshop with spiral staircases, ladders and warm lamplight',
  ],
  Fantasy: [
    'A dragon curled asleep around a ruined clock tower while snow falls',
    'A wizard’s observatory carved into a mountain peak, brass telescopes pointing at the stars',
    'An enchanted forest where the mushrooms glow soft blue at midnight',
    'A castle built on the back of a giant wandering tortoise',
    'Floating islands linked by rope bridges above a sea of clouds',
    'An underwater city of coral towers lit by glowing jellyfish',
    'An alchemist’s cluttered workshop, bubbling potions in every colour',
    'A knight made of autumn leaves standing guard at a forest gate',
    'A village of tree houses in giant redwoods joined by lantern-lit walkways',
  ],
  'Science fiction': [
    'A retro-futuristic diner on Mars, astronauts sipping milkshakes at the counter',
    'A colossal generation ship orbiting a ringed gas giant',
    'A night market with holographic koi fish swimming above the stalls',
    'A lone robot tending a rooftop vegetable garden in an overgrown city',
    'A desert outpost with solar sails under a twin-sun sunset',
    'An astronaut floating through a space-station greenhouse full of strawberries',
    'A maglev train crossing a deep canyon on a bridge of light',
    'An underwater research station, a whale drifting past the observation window',
    'A friendly delivery drone carrying a birthday cake through the clouds',
  ],
  'Art styles': [
    'A fox in a snowy forest as a Japanese woodblock print',
    'A busy harbour painted in loose impressionist brushstrokes',
    'A geometric Bauhaus poster of a bicycle race in primary colours',
    'Lemons and a copper jug as a Dutch Golden Age still life',
    'A quick watercolour sketch of a rainy café terrace',
    'A city skyline made entirely of layered paper cut-outs',
    'An Art Nouveau portrait of a botanist framed by flowing vines',
    'Isometric pixel art of a cosy wizard’s study',
    'A charcoal drawing of a jazz trio in a smoky basement club',
  ],
  'People and characters': [
    'Portrait of an old fisherman with a weathered face and a knitted cap',
    'A young inventor in brass goggles surrounded by clockwork birds',
    'A ballet dancer mid-leap in an empty warehouse, dust floating in the light',
    'A street musician playing the cello under a bridge at twilight',
    'An astronaut portrait with the Earth reflected in the visor',
    'A beekeeper in a sunlit orchard, bees forming a halo around her',
    'A chess player deep in thought, dramatic side lighting',
    'A cheerful baker dusted with flour, holding a tray of croissants',
    'A swordsman resting under a cherry tree as petals fall',
  ],
  Animals: [
    'A red panda napping in a maple tree, soft afternoon light',
    'A snowy owl gliding low over a moonlit field',
    'A family of otters holding paws while floating down a calm river',
    'A chameleon on a branch, blending into a rainbow of flowers',
    'A humpback whale breaching beside a tiny sailboat',
    'A corgi in a yellow raincoat splashing through puddles',
    'Flamingos wading through a pink lagoon at sunrise',
    'A tiger walking through tall grass surrounded by fireflies',
    'A hummingbird hovering at a bright orange flower, macro photograph',
  ],
  'Food and still life': [
    'A steaming bowl of ramen with a soft egg, overhead photo on dark wood',
    'A towering stack of blueberry pancakes with maple syrup dripping down',
    'A picnic blanket in a meadow with cherries, fresh bread and lemonade',
    'A chocolate cake shaped like a volcano erupting raspberry sauce',
    'Macarons arranged as a rainbow on a marble counter',
    'A farmhouse kitchen table covered in fresh vegetables and herbs',
    'A mug of cocoa with marshmallows beside a frosted window',
    'A sushi platter arranged as a tiny landscape with rice mountains',
    'A market stall piled high with spices in glowing copper bowls',
  ],
};

export const PROMPTS = Object.entries(C).flatMap(([category, list]) => list.map((text) => ({ category, text })));

/** A random index, never `last`. */
export function pick(last) {
  let i;
  do { i = Math.floor(Math.random() * PROMPTS.length); } while (i === last && PROMPTS.length > 1);
  return i;
}
