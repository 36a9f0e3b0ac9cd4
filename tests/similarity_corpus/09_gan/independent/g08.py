import keras
import tensorflow as tf

CROSS_ENTROPY = keras.losses.BinaryCrossentropy(from_logits=True)


def discriminator_loss(logits_real, logits_fake):
    real_targets = tf.ones(tf.shape(logits_real))
    fake_targets = tf.zeros(tf.shape(logits_fake))
    return tf.add(CROSS_ENTROPY(real_targets, logits_real), CROSS_ENTROPY(fake_targets, logits_fake))


def generator_loss(logits_fake):
    return CROSS_ENTROPY(tf.ones(tf.shape(logits_fake)), logits_fake)


def build_generator(latent_dim, hidden_units, data_dim):
    z = keras.layers.Input(shape=(latent_dim,))
    a = keras.layers.Activation("relu")(keras.layers.Dense(hidden_units)(z))
    a = keras.layers.Activation("relu")(keras.layers.Dense(hidden_units)(a))
    return keras.models.Model(z, keras.layers.Dense(data_dim)(a))


def build_discriminator(data_dim, hidden_units):
    p = keras.layers.Input(shape=(data_dim,))
    a = keras.layers.Activation("relu")(keras.layers.Dense(hidden_units)(p))
    a = keras.layers.Activation("relu")(keras.layers.Dense(hidden_units)(a))
    return keras.models.Model(p, keras.layers.Dense(1)(a))


def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as tape:
        logits_real = discriminator(real, training=True)
        logits_fake = discriminator(generator(noise, training=True), training=True)
        d_loss = discriminator_loss(logits_real, logits_fake)
    gradients = tape.gradient(d_loss, discriminator.trainable_variables)
    d_optimizer.apply_gradients([(g, v) for g, v in zip(gradients, discriminator.trainable_variables)])
    with tf.GradientTape() as tape:
        g_loss = generator_loss(discriminator(generator(noise, training=True), training=True))
    gradients = tape.gradient(g_loss, generator.trainable_variables)
    g_optimizer.apply_gradients([(g, v) for g, v in zip(gradients, generator.trainable_variables)])
    return d_loss, g_loss
